#!/usr/bin/env bash
# Print the path of a Python 3.12+ interpreter: NetBox 4.7 needs one. pyenv keeps versions that its shims
# only expose when selected, so look there too.
for candidate in "${PYTHON:-}" python3.12 python3.13 python3 \
    "$HOME"/.pyenv/versions/3.12*/bin/python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        command -v "$candidate" 2>/dev/null || echo "$candidate"
        exit 0
    fi
done
echo "No Python 3.12 or newer found; install one (NetBox 4.7 requires it) or set PYTHON=/path/to/python3.12" >&2
exit 1
