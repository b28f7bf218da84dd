"""Who gets in: API tokens (several per person, each expiring, revocable). See docs/api.md,
"Signing in"."""
