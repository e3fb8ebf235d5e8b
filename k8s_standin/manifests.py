"""Reading Kubernetes manifests (multi-document YAML) and locating the fixtures shipped with the stand-in."""

from collections.abc import Iterable
from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parent / 'fixtures'
CRD_DIR = FIXTURES / 'crds'
SAMPLE_DIR = FIXTURES / 'samples'
MANIFEST_SUFFIXES = ('.yaml', '.yml', '.json')

# The C loader is several times faster on the large CRD schemas; PyYAML without libyaml still works.
_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named by `paths`; a directory stands for its manifest files in name order (not recursive)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f'no such manifest file or directory: {path}')
    return files


def load_manifests(paths: Iterable[str | Path] | str | Path) -> list[dict]:
    """Every document of the given files and directories, in order. Empty documents (comments only) are skipped;
    a `kind: List` document contributes its items."""
    if isinstance(paths, str | Path):
        paths = [paths]
    documents = []
    for file in manifest_files(paths):
        with file.open(encoding='utf-8') as stream:
            for document in yaml.load_all(stream, Loader=_Loader):
                if not document:
                    continue
                if not isinstance(document, dict):
                    raise ValueError(f'{file}: a manifest document must be a mapping, got {type(document).__name__}')
                if document.get('kind') == 'List' or (
                    document.get('kind', '').endswith('List') and isinstance(document.get('items'), list)
                ):
                    documents.extend(item for item in document['items'] if item)
                else:
                    documents.append(document)
    return documents


def default_crd_paths() -> list[Path]:
    """The CRD manifests shipped in fixtures/crds (wiring, vpc, agent and gateway groups)."""
    return manifest_files([CRD_DIR])


def sample_paths() -> list[Path]:
    """The upstream sample manifests plus the generated Agents, in load order."""
    return manifest_files([SAMPLE_DIR])
