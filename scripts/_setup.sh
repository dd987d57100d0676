# Shared by scripts/demo and scripts/test: a virtual environment with painlink in it.
# Sourced, not run. Uses python3 (3.11 or newer) from PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The report for the doctor's PDF (WeasyPrint) lays text out with Debian's Pango and
# HarfBuzz and a font: install them when missing (both scripts/demo and scripts/test).
# (read into variables first: under pipefail, `grep -q` closing a pipe early fails it)
LIBS="$("$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null || true)"
FONTS="$(fc-list 2>/dev/null || true)"
if ! grep -q "libpangoft2-1.0.so.0" <<<"$LIBS" || ! grep -q "libharfbuzz-subset.so.0" <<<"$LIBS" \
  || ! grep -qi "dejavu" <<<"$FONTS"; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "Installing Debian packages for PDF reports: Pango, HarfBuzz, DejaVu fonts"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libpango-1.0-0 \
      libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fontconfig >/dev/null
  else
    echo "PDF reports need Pango (libpango-1.0-0, libpangoft2-1.0-0) and HarfBuzz" >&2
  fi
fi
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
