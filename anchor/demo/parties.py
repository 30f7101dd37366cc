"""The demo's parties: their admins, PKIs, registered CAs, issuing agencies and recognition agreements.

Everything here is idempotent on a chain that already saw earlier runs: a PKI whose CA is active on chain
is reused, a revoked one is replaced by a fresh PKI, and an agency account still bound to the current CA
is reused, else a fresh development account is authorized (registrations are one-time per account).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ..accounts import dev_account, resolve_account
from ..cacert import CACertificate, ca_id, load_ca_key, read_ca_certificate
from ..chain import Receipt
from ..config import Config
from ..doctypes import mask_of, names_of
from ..errors import ConfigError, PKIError, SigningError
from ..inputs import MAX_TIME
from ..issuing.signing import Signer
from ..pki import PkiPaths, init_pki
from ..registry import Registries, Role, Status
from .chainprep import chain_time, ensure_funded

PARTIES = ("SG", "TH", "MY")
FIRST_AGENCY_ACCOUNT = 5  # dev:0 deploys, dev:1-3 are the founding admins, dev:4 is left for the reader
LAST_DEV_ACCOUNT = 999
LATEST = MAX_TIME  # "the latest entry" for time-effective reads

CA_DOC_TYPES: dict[str, tuple[str, ...]] = {
    "SG": ("cites-permit", "phytosanitary-certificate", "certificate-of-origin", "veterinary-certificate"),
    "TH": ("cites-permit", "phytosanitary-certificate", "certificate-of-origin"),
    "MY": ("certificate-of-origin",),
}


@dataclass(frozen=True)
class Agency:
    party: str
    key: str
    name: str
    doc_types: tuple[str, ...]

    @property
    def state_key(self) -> str:
        return f"{self.party}/{self.key}"


AGENCIES = (
    Agency(
        "SG",
        "nparks",
        "National Parks Board (CITES Management Authority, plant health, Animal & Veterinary Service)",
        ("cites-permit", "phytosanitary-certificate", "veterinary-certificate"),
    ),
    Agency("SG", "customs", "Singapore Customs", ("certificate-of-origin",)),
    Agency("TH", "doa", "Department of Agriculture, Thailand", ("phytosanitary-certificate",)),
    Agency("MY", "miti", "Ministry of Investment, Trade and Industry, Malaysia", ("certificate-of-origin",)),
)


@dataclass(frozen=True)
class Recognition:
    recognizer: str
    recognized: str
    want: tuple[str, ...]
    refuse: tuple[str, ...]


RECOGNITIONS = (
    Recognition(
        "TH",
        "SG",
        ("cites-permit", "phytosanitary-certificate", "certificate-of-origin"),
        ("veterinary-certificate",),
    ),
    Recognition("TH", "MY", ("certificate-of-origin",), ()),
    Recognition(
        "MY",
        "SG",
        ("certificate-of-origin",),
        ("cites-permit", "phytosanitary-certificate", "veterinary-certificate"),
    ),
)


@dataclass
class Party:
    code: str
    admin: LocalAccount
    admin_spec: str
    pki_dir: Path
    paths: PkiPaths | None = None
    ca: CACertificate | None = None
    signer: Signer | None = None

    @property
    def fingerprint(self) -> bytes:
        """The party's CA id on chain (bound to the party: another party's registration of the same
        certificate has another id)."""
        assert self.ca is not None
        return ca_id(self.code, self.ca.fingerprint)


@dataclass(frozen=True)
class AgencyAccount:
    agency: Agency
    account: LocalAccount
    index: int

    @property
    def spec(self) -> str:
        return f"dev:{self.index}"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    actual: str
    details: tuple[str, ...] = ()


def admins(config: Config, reg: Registries) -> dict[str, Party]:
    """The demo parties with the admin keys from [deploy]; each must be a member administered by that key."""
    if config.deploy is None:
        raise ConfigError(f"{config.source}: the demo needs the [deploy] section naming the parties' admins")
    specs = {p.id: p.admin for p in config.deploy.parties}
    out: dict[str, Party] = {}
    for code in PARTIES:
        spec = specs.get(code)
        if spec is None:
            raise ConfigError(f"{config.source}: [deploy] has no party {code}; the demo plays SG, TH and MY")
        if spec.startswith("0x"):
            raise ConfigError(
                f"{config.source}: {code}'s admin is a bare address; the demo must sign as {code} (use dev:N)"
            )
        acct = resolve_account(spec, config.chain.mnemonic)
        acting = reg.trust.admin_party(acct.address)
        if acting != code or not reg.trust.is_member(code):
            raise ConfigError(
                f"{spec} ({acct.address}) is not an admin of member party {code} on this deployment "
                f"(it administers {acting or 'no party'})"
            )
        out[code] = Party(code, acct, spec, config.home / "demo" / "pki" / code)
    return out


def _pki_paths(d: Path) -> PkiPaths:
    return PkiPaths(
        root_ca=d / "root-ca.pem",
        root_ca_key=d / "root-ca-key.pem",
        issuing_ca=d / "issuing-ca.pem",
        issuing_ca_key=d / "issuing-ca-key.pem",
        signer_cert=d / "signer.pem",
        signer_key=d / "signer-key.pem",
        signer_p12=d / "signer.p12",
    )


def _load(paths: PkiPaths) -> tuple[CACertificate, Signer]:
    ca = read_ca_certificate(paths.root_ca)
    # The bundle carries the whole chain up to the registered root, so a verifier needs no CA store.
    signer = Signer.from_pem(paths.signer_key, paths.signer_cert, [paths.issuing_ca, paths.root_ca])
    return ca, signer


def ensure_ca(reg: Registries, party: Party) -> Outcome:
    """Reuse the party's PKI if its root CA is usable on chain, else create one; register the CA."""
    mask = mask_of(CA_DOC_TYPES[party.code])
    paths = _pki_paths(party.pki_dir)
    why_new = "no PKI yet"
    if paths.root_ca.exists():
        try:
            ca, signer = _load(paths)
        except (PKIError, SigningError, OSError) as e:
            why_new = f"the PKI in {party.pki_dir} is unusable ({e})"
        else:
            on_chain = reg.trust.ca(ca_id(party.code, ca.fingerprint))
            if on_chain.status is Status.NONE:
                party.paths, party.ca, party.signer = paths, ca, signer
                r = _register(reg, party, mask)
                return _ca_outcome(
                    reg,
                    party,
                    mask,
                    f"PKI from an earlier run reused; CA registered in block {r.block_number}",
                )
            if (
                on_chain.status is Status.ACTIVE
                and on_chain.party == party.code
                and on_chain.doc_types & mask == mask
            ):
                party.paths, party.ca, party.signer = paths, ca, signer
                return _ca_outcome(reg, party, mask, "PKI and CA from an earlier run reused (already active)")
            why_new = f"the CA of the previous run is {on_chain.status.name.lower()} on chain"
    if party.pki_dir.exists():
        shutil.rmtree(party.pki_dir)
    now = min(time.time(), chain_time(reg.chain))
    # Backdated a little, and never after the chain's clock: certificates must be valid when anchoring.
    valid_from = dt.datetime.fromtimestamp(now - 600, dt.UTC)
    paths = init_pki(party.code, party.pki_dir, valid_from=valid_from)
    ca, signer = _load(paths)
    party.paths, party.ca, party.signer = paths, ca, signer
    r = _register(reg, party, mask)
    return _ca_outcome(reg, party, mask, f"new PKI ({why_new}); CA registered in block {r.block_number}")


def _register(reg: Registries, party: Party, mask: int) -> Receipt:
    """Register the party's root CA with a proof of possession signed by the root CA key."""
    assert party.paths is not None and party.ca is not None
    _, r = reg.trust.register_ca(party.admin, party.ca, mask, load_ca_key(party.paths.root_ca_key))
    return r


def _ca_outcome(reg: Registries, party: Party, mask: int, how: str) -> Outcome:
    c = reg.trust.ca(party.fingerprint)
    ok = c.status is Status.ACTIVE and c.party == party.code and c.doc_types & mask == mask
    return Outcome(
        ok,
        f"CA 0x{party.fingerprint.hex()[:16]}… {c.status.name.lower()} for {', '.join(names_of(c.doc_types))}",
        (
            how,
            f"root CA certificate {party.paths.root_ca if party.paths else '?'}",
            "with proof of possession",
        ),
    )


class AccountBook:
    """Which development account each agency uses, remembered in TRUSTANCHOR_HOME/demo/accounts.json."""

    def __init__(self, path: Path, mnemonic: str) -> None:
        self.path = path
        self.mnemonic = mnemonic
        try:
            raw = json.loads(path.read_text())
            self.indices: dict[str, int] = {str(k): int(v) for k, v in raw.get("agencies", {}).items()}
        except (OSError, ValueError, AttributeError):
            self.indices = {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"agencies": self.indices}, indent=2, sort_keys=True) + "\n")

    def account(self, index: int) -> LocalAccount:
        return dev_account(self.mnemonic, index)

    def unused(self, reg: Registries) -> int:
        """The first development account that holds no role (one account, one role, one party)."""
        taken = set(self.indices.values())
        for index in range(FIRST_AGENCY_ACCOUNT, LAST_DEV_ACCOUNT + 1):
            if index in taken:
                continue
            if reg.trust.role_of(self.account(index).address)[0] is not Role.NONE:
                continue
            return index
        raise ConfigError(f"no unused development account left below dev:{LAST_DEV_ACCOUNT + 1}")


def ensure_agency(
    reg: Registries, party: Party, agency: Agency, book: AccountBook
) -> tuple[AgencyAccount, Outcome]:
    """An active issuer account of `agency` bound to the party's current CA: reused, or a new one authorized."""
    mask = mask_of(agency.doc_types)
    index = book.indices.get(agency.state_key)
    how = ""
    if index is not None:
        i = reg.trust.issuer(book.account(index).address)
        if (
            i.status is Status.ACTIVE
            and i.party == party.code
            and i.ca == party.fingerprint
            and i.doc_types == mask
        ):
            how = "authorized in an earlier run, reused"
    if not how:
        index = book.unused(reg)
        address = book.account(index).address
        funded = ensure_funded(reg.chain, address)
        r = reg.trust.authorize_issuer(party.admin, address, party.fingerprint, mask)
        how = f"authorized in block {r.block_number}" + (
            " (account topped up with anvil_setBalance)" if funded else ""
        )
        book.indices[agency.state_key] = index
        book.save()
    assert index is not None
    acct = AgencyAccount(agency, book.account(index), index)
    ensure_funded(reg.chain, acct.account.address)
    i = reg.trust.issuer(acct.account.address)
    ok = i.status is Status.ACTIVE and i.ca == party.fingerprint and i.doc_types == mask
    actual = f"issuer {acct.spec} ({acct.account.address}) {i.status.name.lower()} for {', '.join(names_of(i.doc_types))}"
    return acct, Outcome(ok, actual, (how,))


def ensure_recognition(reg: Registries, parties: dict[str, Party], rec: Recognition) -> Outcome:
    """Make the recognizer recognize exactly `want` (and none of `refuse`) of the other party's types."""
    admin = parties[rec.recognizer].admin
    want, refuse = mask_of(rec.want), mask_of(rec.refuse) if rec.refuse else 0
    before = reg.trust.recognition_at(rec.recognizer, rec.recognized, LATEST)
    notes: list[str] = []
    if want & ~before:
        r = reg.trust.recognize(admin, rec.recognized, want & ~before)
        notes.append(
            f"recognition of {', '.join(names_of(want & ~before))} recorded in block {r.block_number}"
        )
    if before & refuse:
        r = reg.trust.unrecognize(admin, rec.recognized, before & refuse)
        notes.append(
            f"recognition of {', '.join(names_of(before & refuse))} withdrawn in block {r.block_number}"
        )
    if not notes:
        notes.append("unchanged since an earlier run")
    after = reg.trust.recognition_at(rec.recognizer, rec.recognized, LATEST)
    ok = after & want == want and after & refuse == 0
    shown = names_of(after & (want | refuse)) if after & (want | refuse) else ["nothing"]
    actual = f"{rec.recognizer} recognizes {rec.recognized} for {', '.join(shown)}"
    return Outcome(ok, actual, tuple(notes))


def ensure_consumer(reg: Registries, party: Party, book: AccountBook) -> tuple[AgencyAccount, Outcome]:
    """The party's border service account: a consumer account (consume and endorse only, no admin key)."""
    key = f"{party.code}/border"
    agency = Agency(party.code, "border", f"{party.code} border service", ())
    index = book.indices.get(key)
    how = "granted in an earlier run, reused"
    if index is None or reg.trust.consumer_party(book.account(index).address) != party.code:
        index = book.unused(reg)
        ensure_funded(reg.chain, book.account(index).address)
        r = reg.trust.grant_consumer(party.admin, book.account(index).address)
        how = f"consumer role granted in block {r.block_number}"
        book.indices[key] = index
        book.save()
    acct = AgencyAccount(agency, book.account(index), index)
    ensure_funded(reg.chain, acct.account.address)
    role, of = reg.trust.role_of(acct.account.address)
    ok = role is Role.CONSUMER and of == party.code
    return acct, Outcome(ok, f"{acct.spec} ({acct.account.address}) is {role.name.lower()} of {of}", (how,))


def ensure_witness(reg: Registries, party: Party, book: AccountBook) -> tuple[AgencyAccount, Outcome]:
    """The party's checkpoint witness: an account that co-signs checkpoints and can do nothing on chain."""
    key = f"{party.code}/witness"
    agency = Agency(party.code, "witness", f"{party.code} checkpoint witness", ())
    index = book.indices.get(key)
    how = "granted in an earlier run, reused"
    if index is None or reg.trust.witness_party(book.account(index).address) != party.code:
        index = book.unused(reg)
        ensure_funded(reg.chain, party.admin.address)
        r = reg.trust.grant_witness(party.admin, book.account(index).address)
        how = f"witness role granted in block {r.block_number}"
        book.indices[key] = index
        book.save()
    acct = AgencyAccount(agency, book.account(index), index)
    role, of = reg.trust.role_of(acct.account.address)
    ok = role is Role.WITNESS and of == party.code
    return acct, Outcome(ok, f"{acct.spec} ({acct.account.address}) is {role.name.lower()} of {of}", (how,))
