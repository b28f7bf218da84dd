# Shared by bin/backup and bin/restore (sourced, not run).

# The tables a manifest counts: what a backup must not lose.
BACKUP_TABLES=(
  submissions_submission
  submissions_submissionfile
  grading_grade
  grading_gradechange
  grading_regraderequest
  courses_extension
  access_apitoken
  grading_bundle
)

die() {
  echo "${0##*/}: $*" >&2
  exit 1
}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (Debian: apt-get install postgresql-client rsync coreutils)"
  done
}

# A DATABASE_URL as the portal takes it (django-environ), checked to be PostgreSQL and put
# in the form libpq reads (postgres://, postgresql://; pgsql:// and psql:// renamed).
pg_url() {
  local url="${1:-}"
  [[ -n "$url" ]] || die "DATABASE_URL is not set (postgres://user@host:5432/dbname)"
  case "$url" in
    postgres://* | postgresql://*) ;;
    pgsql://* | psql://*) url="postgresql://${url#*://}" ;;
    sqlite:*) die "DATABASE_URL is SQLite (the demo): copy the .sqlite3 file instead; this script is for PostgreSQL" ;;
    *) die "DATABASE_URL must be a postgres:// URL, not ${url%%://*}://…" ;;
  esac
  printf '%s' "$url"
}

# The database name of a libpq URL, and the same URL pointing at another database.
pg_url_dbname() {
  local base="${1%%\?*}"
  local name="${base##*/}"
  [[ "$base" == *://*/* && -n "$name" ]] || die "DATABASE_URL names no database: ${1%%@*}@…"
  printf '%s' "$name"
}

pg_url_with_db() {
  local base="${1%%\?*}"
  local query="${1#"$base"}"
  printf '%s/%s%s' "${base%/*}" "$2" "$query"
}

# Rows of one table in a custom-format dump, counted from the dump itself (so the counts are
# those of the dump's snapshot, whatever the running site wrote since). COPY's text format
# writes one line per row (newlines inside values are escaped).
dump_rows() {
  pg_restore --data-only --table="$2" --file=- "$1" | awk '
    /^COPY / { inside = 1; next }
    inside && $0 == "\\." { inside = 0; next }
    inside { n++ }
    END { print n + 0 }'
}

# Rows of one table in a live database (0 when the table is missing).
db_rows() {
  psql "$1" --no-psqlrc -v ON_ERROR_STOP=1 -qAtc "SELECT count(*) FROM public.$2"
}

# The value of a numeric or string key in the manifest (flat JSON written by bin/backup).
manifest_value() {
  sed -n "s/^ *\"$2\": \"\\{0,1\\}\\([^\",]*\\)\"\\{0,1\\},\\{0,1\\}\$/\\1/p" "$1" | head -n1
}
