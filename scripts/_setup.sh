# Shared by scripts/demo and scripts/test: a virtual environment with painlink in it.
# Sourced, not run. Uses python3 (3.11 or newer) from PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
python3 - <<'PY' || { echo "painlink needs Python 3.11 or newer" >&2; exit 1; }
import sys
raise SystemExit(0 if sys.version_info >= (3, 11) else 1)
PY
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
TARGET="."
if [ -n "${PAINLINK_EXTRAS:-}" ]; then TARGET=".[${PAINLINK_EXTRAS}]"; fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
# pip's editable build may print setuptools deprecation notes; the import check below decides
.venv/bin/python -m pip install --quiet -e "$TARGET" 2>&1 | grep -e "^ERROR" >&2 || true
.venv/bin/python -c "import painlink" || { echo "installing painlink failed" >&2; exit 1; }
