#!/usr/bin/env bash
# Packs the smallest pure-file Python closure of llm-compressor's observers into
# ${LLMC_BUILD_DIR:-build}/pylib, for a lent device machine that is offline and whose python3
# has torch 2.11 (cu130) and torch's own dependencies only, so that bench/reference_grid_search.py
# (torch, safetensors.torch, compressed_tensors, llmcompressor.observers) runs there:
#   common/  pure wheels, unzipped (plus safetensors, whose abi3 wheel serves every CPython >= 3.10),
#            and llmc_stubs.py + sitecustomize.py (see below)
#   cp310/ ... cp313/  pydantic_core, the one compiled package, for each CPython minor version
#   pythonpath.sh  prints the PYTHONPATH for the python3 that runs it (or $PYTHON)
# On the device:  PYTHONPATH=$(bash build/pylib/pythonpath.sh) python3 bench/reference_grid_search.py ...
#
# Not packed, but stubbed: the packages that llmcompressor / compressed_tensors import at package
# level and whose code the observers never run (transformers, datasets, accelerate, numpy, ...).
# sitecustomize.py (imported at start-up because it lies on PYTHONPATH) installs llmc_stubs: a
# finder at the END of sys.meta_path, so a real package, where one is installed, always wins;
# only an import made by llmcompressor's or compressed_tensors' code gets a placeholder module,
# whose attributes are placeholder classes, so torch's probes for optional packages still see
# them absent. The observers' numerics are llm-compressor's and compressed-tensors' own files.
#
# Versions are those of .venv (scripts/requirements.txt). Needs PyPI (pip download); idempotent:
# builds in a temporary folder, then renames it; does nothing when pylib matches this script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LLMC_BUILD_DIR:-$root/build}"
pip=("${LLMC_PIP_PYTHON:-$root/.venv/bin/python}" -m pip)
out="$build/pylib"

# Pure (py3-none-any) wheels, and safetensors (cp310-abi3): version-independent.
common_pkgs=(
  llmcompressor==0.14.0.1
  compressed-tensors==0.19.0
  pydantic==2.14.4
  annotated-types==0.8.0
  typing-inspection==0.4.5
  typing_extensions==4.16.0  # pydantic needs >= 4.16; the device's (torch's) may be older
  loguru==0.7.3
  safetensors==0.8.0
)
# Compiled, one wheel per CPython minor version.
compiled_pkgs=(pydantic_core==2.50.5)
pythons=(3.10 3.11 3.12 3.13)
# Imported at package level by llmcompressor / compressed_tensors, unused by the observers.
stubbed="numpy transformers huggingface_hub accelerate datasets psutil yaml requests tqdm"

stamp="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" ]]; then
  echo "device_pylib: $out is up to date"
  du -sh "$out"
  exit 0
fi

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp/wheels" "$tmp/common"

download() {  # download DIR PYTHON_VERSION PKG...
  local dir="$1" pyver="$2"
  shift 2
  "${pip[@]}" download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    --implementation cp --python-version "$pyver" -d "$dir" "$@"
}
unpack() {  # unpack DEST WHEEL...: unzip, minus bytecode and type stubs
  local dest="$1"
  shift
  for whl in "$@"; do
    "${pip[0]}" -m zipfile -e "$whl" "$dest"
  done
  find "$dest" \( -name __pycache__ -prune -o -name '*.pyi' \) -exec rm -rf {} +
}

download "$tmp/wheels/common" 3.10 "${common_pkgs[@]}"
unpack "$tmp/common" "$tmp/wheels/common"/*.whl
# Hadamard matrices for compressed-tensors' transforms (1.4 MB), read by no observer.
rm "$tmp/common/compressed_tensors/transform/utils/hadamards.safetensors"
for v in "${pythons[@]}"; do
  tag="cp${v/./}"
  download "$tmp/wheels/$tag" "$v" "${compiled_pkgs[@]}"
  mkdir -p "$tmp/$tag"
  unpack "$tmp/$tag" "$tmp/wheels/$tag"/*.whl
done
rm -rf "$tmp/wheels"

cat > "$tmp/common/llmc_stubs.py" <<EOF
"""Placeholder modules for heavy packages that llm-compressor and compressed-tensors import at
package level but that their observers never use (packed by scripts/device_pylib.sh).

install() appends a finder to the END of sys.meta_path, so it answers for a name in STUBBED
only when no real module of that name is found, and then only to an import made by the code of
a package in IMPORTERS (torch & co. probe optional packages: they still see them absent; a stub,
once made, is in sys.modules for all). A stub module answers a CamelCase or _private attribute
with a placeholder class and any other name with a placeholder submodule, itself callable.
Placeholders are plain classes (so they can be subclassed, also under other metaclasses);
calling one gives an instance whose attributes are placeholders again; given one callable
argument (a bare decorator), a placeholder hands it back unchanged.
"""
import importlib.abc
import importlib.machinery
import sys
import types

STUBBED = frozenset("$stubbed".split())

# Only imports made by these packages' code get a stub.
IMPORTERS = frozenset(["llmcompressor", "compressed_tensors"])

# Never stubbed, so that an import of them fails as if the package were absent: torch's C++
# probe for NumPy imports numpy._core._multiarray_umath / numpy.core._multiarray_umath.
REFUSED = frozenset(["numpy.core"])
EOF
cat >> "$tmp/common/llmc_stubs.py" <<'EOF'


class _Permissive:
    """What placeholder classes and modules both answer: called, they hand back a bare
    decorator's function or a placeholder; iterated, nothing; indexed, a placeholder."""

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        return _Stub()

    def __iter__(self):
        return iter(())

    def __getitem__(self, item):
        return _Stub()


class _Stub(_Permissive):
    _llmc_stub = True

    def __new__(cls, *args, **kwargs):
        if cls.__dict__.get("_llmc_stub") and len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]  # used as a bare decorator
        return super().__new__(cls)

    def __class_getitem__(cls, item):
        return cls

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _placeholder(name)

    def __bool__(self):
        return False

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        from pydantic_core import core_schema
        return core_schema.any_schema()


def _placeholder(name):
    return type(name, (_Stub,), {"_llmc_stub": True, "__module__": __name__})


class _StubModule(_Permissive, types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            if name == "__version__":
                return "0.0.0"
            raise AttributeError(name)
        if name.startswith("_") or (name[:1].isupper() and not name.isupper()):
            value = _placeholder(name)
        else:
            full = self.__name__ + "." + name
            value = sys.modules.setdefault(full, _new_module(full))
        setattr(self, name, value)
        return value

    def __contains__(self, item):
        return False


def _new_module(name):
    module = _StubModule(name)
    module.__path__ = []
    module.__llmc_stub__ = True
    return module


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec):
        return _new_module(spec.name)

    def exec_module(self, module):
        pass


def _importer():
    """Top-level package of the module whose code is importing (skipping the import system)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__") or ""
        if not (name.startswith("importlib") or name in (__name__, "_frozen_importlib")
                or frame.f_code.co_filename.startswith("<frozen ")):
            return name.partition(".")[0]
        frame = frame.f_back
    return ""


class _StubFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top not in STUBBED or "._" in fullname or fullname in REFUSED:
            return None
        if top == fullname and _importer() not in IMPORTERS:
            return None
        if top != fullname and not getattr(sys.modules.get(top), "__llmc_stub__", False):
            return None  # a real package that lacks this submodule: leave its error alone
        return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)


def install():
    if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
        sys.meta_path.append(_StubFinder())
EOF
cat > "$tmp/common/sitecustomize.py" <<'EOF'
# Imported by site at start-up because build/pylib/common is on PYTHONPATH (device_pylib.sh).
import os
import sys

import llmc_stubs

llmc_stubs.install()

# This file shadows any sitecustomize further down sys.path: run that one too.
_here = os.path.dirname(os.path.abspath(__file__))
for _entry in sys.path:
    _path = os.path.join(_entry, "sitecustomize.py")
    if _entry and os.path.abspath(_entry) != _here and os.path.isfile(_path):
        try:
            import importlib.util
            _spec = importlib.util.spec_from_file_location("_llmc_next_sitecustomize", _path)
            _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
        except Exception as _error:
            print(f"llmc sitecustomize: {_path}: {_error!r}", file=sys.stderr)
        break
EOF
cat > "$tmp/pythonpath.sh" <<'EOF'
#!/usr/bin/env bash
# Prints the PYTHONPATH for ${PYTHON:-python3}, e.g.
#   PYTHONPATH=$(bash build/pylib/pythonpath.sh) python3 bench/reference_grid_search.py ...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tag="$("${PYTHON:-python3}" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"
if [[ ! -d "$here/$tag" ]]; then
  echo "pythonpath.sh: no packages for $tag (have: $(cd "$here" && echo cp3*))" >&2
  exit 1
fi
echo "$here/common:$here/$tag${PYTHONPATH:+:$PYTHONPATH}"
EOF
{
  echo "Packed by scripts/device_pylib.sh. Usage: PYTHONPATH=\$(bash pythonpath.sh) python3 ..."
  echo "common: ${common_pkgs[*]}"
  echo "per CPython (${pythons[*]}): ${compiled_pkgs[*]}"
  echo "stubbed (when absent): $stubbed"
} > "$tmp/README"
echo "$stamp" > "$tmp/.stamp"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
du -sh "$out"/* | sed "s|$out/||"
du -sh "$out"
