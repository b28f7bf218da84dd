"""Who gets in: API tokens (several per person, each expiring, revocable), failed-login
lockouts (django-axes) and request throttles. See docs/api.md, "Signing in"."""
