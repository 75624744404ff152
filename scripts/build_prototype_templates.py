"""Expand every prototype of the library into its conventional cell and ship the cells with the package.

    python scripts/build_prototype_templates.py

Writes ``ase_lcom/pretrained/prototype-templates.json`` (see :mod:`ase_lcom.data.prototype_templates`); rerun
after adding or editing a prototype (a test fails while a definition has no shipped cell).
"""

from __future__ import annotations

import json
import time

from ase_lcom.data.prototype_templates import TEMPLATES_FILE, expand, template_entry, template_key
from ase_lcom.data.prototypes import PROTOTYPES
from ase_lcom.data.prototypes import template_definition as binary_definition
from ase_lcom.data.prototypes_multinary import STRUCTURE_TYPES
from ase_lcom.data.prototypes_multinary import template_definition as multinary_definition


def main() -> None:
    definitions = {p.name: binary_definition(p) for p in PROTOTYPES.values()}
    definitions |= {t.name: multinary_definition(t) for t in STRUCTURE_TYPES.values()}
    start = time.perf_counter()
    templates = {}
    for name, definition in definitions.items():
        templates[template_key(*definition)] = {"name": name, **template_entry(expand(*definition))}
    content = {"about": "conventional cells of ase_lcom.data.prototypes and prototypes_multinary, built by "
               "scripts/build_prototype_templates.py", "templates": templates}
    TEMPLATES_FILE.write_text(json.dumps(content, separators=(",", ":")) + "\n")
    print(f"{len(templates)} templates expanded in {time.perf_counter() - start:.1f} s -> {TEMPLATES_FILE} "
          f"({TEMPLATES_FILE.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
