"""The demo's sample documents (anchor/demo/data) and the working copies under TRUSTANCHOR_HOME/demo."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

PERMITS = (
    "cites-permit-SG-2026-E-04417.json",  # 20 live Asian arowana: consumed at import
    "cites-permit-SG-2026-E-04418.json",  # 150 crocodile skins: tampered copy; endorsed in partial shipments
    "cites-permit-SG-2026-E-04419.json",  # orchids: re-formatted copy; MY does not recognize SG permits
)
EXPIRING_PERMIT = "cites-permit-SG-2026-E-04420.json"  # python skins: expires minutes after issue
SPS_XML = "sps-certificate-ephyto.xml"
SPS_PDF = "sps-attachment.pdf"
SG_ORIGIN = "certificate-of-origin-SG-FD-2026-118734.json"
SG_ORIGIN_AMENDED = "certificate-of-origin-SG-FD-2026-118734-A1.json"
VETERINARY = "veterinary-certificate-SG-AVS-2026-30912.json"
MY_ORIGINS = (
    "certificate-of-origin-MY-KL-2026-0071203.json",
    "certificate-of-origin-MY-KL-2026-0071244.json",
)
ATTRIBUTION = ("README.md", "LICENSE-ephyto-api.md")


class Workspace:
    """TRUSTANCHOR_HOME/demo: pki/<PARTY>/, documents/, bundles/ (the last two renewed on every run)."""

    def __init__(self, home: Path) -> None:
        self.root = home / "demo"
        self.documents = self.root / "documents"
        self.bundles = self.root / "bundles"

    def reset(self) -> None:
        for d in (self.documents, self.bundles):
            if d.exists():
                shutil.rmtree(d)
            d.mkdir(parents=True)
        for name in ATTRIBUTION:  # the third-party samples travel with their attribution and licence
            shutil.copyfile(DATA / name, self.documents / name)

    def copy(self, name: str) -> Path:
        target = self.documents / name
        shutil.copyfile(DATA / name, target)
        return target

    def dated_copy(self, name: str, now: int, *, valid_for: int | None = None) -> Path:
        """A copy of a JSON permit issued today by the chain's clock (`now`): `issueDate` becomes that day
        and `validUntil` keeps its span, or becomes exactly `now + valid_for` seconds when given, so
        the demo's validity checks hold on any date."""
        doc = json.loads((DATA / name).read_text())
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        issued = dt.date.fromisoformat(doc["issueDate"])
        if valid_for is None:
            until = today + (dt.date.fromisoformat(doc["validUntil"]) - issued)
            doc["validUntil"] = until.isoformat()
        else:
            moment = dt.datetime.fromtimestamp(now + valid_for, dt.UTC)
            doc["validUntil"] = moment.isoformat().replace("+00:00", "Z")
        doc["issueDate"] = today.isoformat()
        if isinstance(doc.get("issuingOfficial"), dict) and "date" in doc["issuingOfficial"]:
            doc["issuingOfficial"]["date"] = today.isoformat()
        target = self.documents / name
        target.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return target

    def bundle_path(self, document: Path) -> Path:
        return self.bundles / f"{document.name}.bundle.json"

    def tampered_copy(self, name: str, edit: dict[str, Any], new_name: str) -> Path:
        """A copy of the issued JSON document with one field changed (`edit`: path tuple -> new value)."""
        doc = json.loads((self.documents / name).read_text())
        for path, value in edit.items():
            target = doc
            keys = path.split(".")
            for k in keys[:-1]:
                target = target[int(k)] if isinstance(target, list) else target[k]
            last = keys[-1]
            if isinstance(target, list):
                target[int(last)] = value
            else:
                target[last] = value
        out = self.documents / new_name
        out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return out

    def reformatted_copy(self, name: str, new_name: str) -> Path:
        """The same JSON document serialized differently: keys in reverse order, other indentation, \\u escapes."""
        doc = json.loads((self.documents / name).read_text())
        out = self.documents / new_name
        out.write_text(json.dumps(_reverse_keys(doc), indent=4, ensure_ascii=True) + "\n")
        return out


def read_field(path: Path, dotted: str) -> Any:
    value: Any = json.loads(path.read_text())
    for k in dotted.split("."):
        value = value[int(k)] if isinstance(value, list) else value[k]
    return value


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value
