"""`trustanchor verify` and the document lifecycle: `revoke`, `supersede`, `consume`."""

from __future__ import annotations

import time
from pathlib import Path

import click
from cryptography import x509
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from rich.table import Table

from ..bundle import Bundle
from ..chain import Chain
from ..checkpoint.pack import Pins, TrustPack
from ..deploy import Manifest
from ..errors import ConfigError, TrustAnchorError
from ..inputs import parse_duration
from ..reasons import reason_code
from ..registry import DocumentProof, Opening, Registries
from ..verify import CheckStatus, Decision, Verdict, Verifier, load_ca_directory
from ..verify.offline import OfflineVerifier, age_words
from ._common import (
    Context,
    account_option,
    console,
    done,
    json_option,
    member_parties,
    parse_quantity,
    pass_ctx,
)
from .checkpoint_cmd import pins_file, pins_option

EXIT_CODES = {Decision.VALID: 0, Decision.INVALID: 1, Decision.INDETERMINATE: 2}
_STYLE = {
    CheckStatus.VALID: "green",
    CheckStatus.INVALID: "bold red",
    CheckStatus.SKIPPED: "dim",
    CheckStatus.ERROR: "yellow",
}
_VERDICT_STYLE = {
    Decision.VALID: "bold green",
    Decision.INVALID: "bold red",
    Decision.INDETERMINATE: "bold yellow",
}


def print_verdict(v: Verdict) -> None:
    c = console()
    c.print(
        f"[{_VERDICT_STYLE[v.verdict]}]{v.verdict.value}[/]  {v.document}  (verified as {v.verifying_party})"
    )
    t = Table(show_header=True, header_style="bold")
    for col in ("check", "status", "code", "explanation"):
        t.add_column(col)
    for ch in v.checks:
        status = f"[{_STYLE[ch.status]}]{ch.status.value}[/]" + (
            " [yellow](warning)[/]" if ch.warning else ""
        )
        t.add_row(ch.name, status, ch.code, ch.message)
    c.print(t)
    as_of = v.details.get("asOf")
    if as_of is not None:
        c.print(
            f"offline, as of checkpoint {as_of['events']} (block {as_of['block']}, "
            f"{time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime(as_of['blockTime']))}, age {age_words(as_of['ageSeconds'])})"
            + (f", witnessed by {', '.join(as_of['witnesses'])}" if as_of["witnesses"] else "")
        )
    elif v.read_at_block is not None:
        c.print(f"chain {v.chain_id} read at block {v.read_at_block} ({v.read_at_block_hash})")


@click.command("verify")
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--bundle", "bundle_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as", "as_party", required=True, metavar="PARTY", help="The verifying (receiving) party, e.g. TH."
)
@click.option(
    "--ca-dir", type=click.Path(file_okay=False, path_type=Path), help="Extra CA certificates (*.pem)."
)
@click.option("--confirmations", type=int, help="Confirmations required (default: chain config).")
@click.option("--offline", is_flag=True, help="No node: read the registries from --trust-pack.")
@click.option(
    "--trust-pack",
    "pack_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Witnessed trust pack (with --offline; default HOME/offline/trust-pack.json).",
)
@click.option("--max-age", default="24h", show_default=True, help="Oldest checkpoint accepted offline.")
@click.option(
    "--min-witnesses",
    type=click.IntRange(min=1),
    help="Co-signers needed offline (default: pinned threshold).",
)
@pins_option
@json_option
@pass_ctx
def verify_cmd(
    ctx: Context,
    document: Path,
    bundle_path: Path,
    as_party: str,
    ca_dir: Path | None,
    confirmations: int | None,
    offline: bool,
    pack_path: Path | None,
    max_age: str,
    min_witnesses: int | None,
    pins_path: Path | None,
    as_json: bool,
) -> None:
    """Verify DOCUMENT against its proof bundle as PARTY. Exit 0 VALID, 1 INVALID, 2 INDETERMINATE.

    Nine checks, each with a status and a stable reason code (all listed in docs/verification.md).
    With --offline, no connection is made: the registries are read from a trust pack co-signed by the
    member parties' witnesses, and the verdict says how old that reading is.
    """
    if not document.exists():
        raise ConfigError(f"document not found: {document}")
    bundle = Bundle.load(bundle_path)
    manifest = ctx.manifest()
    if offline or pack_path is not None:
        if not offline:
            raise click.UsageError("--trust-pack is for --offline verification")
        verdict = _verify_offline(
            ctx, document, bundle, as_party, manifest, pack_path, parse_duration(max_age, "--max-age"),
            min_witnesses, pins_path, load_ca_directory(ca_dir),
        )  # fmt: skip
        if as_json:
            click.echo(verdict.to_json())
        else:
            print_verdict(verdict)
        raise SystemExit(EXIT_CODES[verdict.verdict])
    chain = ctx.chain()  # an unreachable node still yields a verdict: INDETERMINATE
    _require_member(chain, manifest, as_party)
    need = ctx.config.chain.confirmations if confirmations is None else confirmations
    verifier = Verifier(chain, manifest, confirmations=need, ca_certificates=load_ca_directory(ca_dir))
    verdict = verifier.verify(document, bundle, as_party)
    if as_json:
        click.echo(verdict.to_json())
    else:
        print_verdict(verdict)
    raise SystemExit(EXIT_CODES[verdict.verdict])


def _verify_offline(
    ctx: Context,
    document: Path,
    bundle: Bundle,
    as_party: str,
    manifest: Manifest,
    pack_path: Path | None,
    max_age: int,
    min_witnesses: int | None,
    pins_path: Path | None,
    cas: list[x509.Certificate],
) -> Verdict:
    pins_at = pins_file(ctx, pins_path)
    pins = Pins.load(pins_at)
    pack = TrustPack.load(pack_path or ctx.config.home / "offline" / "trust-pack.json")
    verifier = OfflineVerifier(
        pack, pins, manifest, max_age=max_age, min_witnesses=min_witnesses, ca_certificates=cas
    )
    accepted = verifier.accepted
    if accepted.ok and accepted.snapshot is not None:
        members = sorted(p for p, party in accepted.snapshot.parties.items() if party.member)
        if as_party.strip().upper() not in members:
            raise click.BadParameter(
                f"{as_party} is not a member party in the trust pack (members: {', '.join(members)})",
                param_hint="'--as'",
            )
        accepted.keep_pins(pins, pins_at)
    return verifier.verify(document, bundle, as_party)


def _require_member(chain: Chain, manifest: Manifest, as_party: str) -> None:
    """A verifying party that is not a member (a typo, a country name) is a usage error, not a verdict.
    Only when the registry can be read: otherwise the verifier's verdict (INDETERMINATE) says why."""
    try:
        members = member_parties(Registries.open(chain, manifest))
    except (TrustAnchorError, DecodingError):  # unreachable node, another chain, no registry there
        return
    if as_party.strip().upper() not in members:
        raise click.BadParameter(
            f"{as_party} is not a member party of the registry (members: {', '.join(members) or 'none'})",
            param_hint="'--as'",
        )


def _trusted(ctx: Context, bundle: Bundle) -> None:
    m = ctx.manifest()
    if (
        bundle.anchor.chain_id != m.chain_id
        or bundle.anchor.registry.lower() != m.document_registry.address.lower()
    ):
        raise ConfigError(
            f"the bundle belongs to registry {bundle.anchor.registry} on chain {bundle.anchor.chain_id}, not ours"
        )


@click.command("revoke")
@click.option("--bundle", "bundle_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", default="unspecified", show_default=True, help="Reason name or code.")
@click.option("--whole-batch", is_flag=True, help="Revoke every document of the bundle's batch.")
@account_option
@pass_ctx
def revoke_cmd(
    ctx: Context, bundle_path: Path, reason: str, whole_batch: bool, account_spec: str | None
) -> None:
    """Revoke the document of a bundle (or its whole batch): the issuer account that anchored it, or an
    admin of the issuing party."""
    bundle = Bundle.load(bundle_path)
    _trusted(ctx, bundle)
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    if whole_batch:
        root = bytes.fromhex(bundle.batch.root[2:])
        r = reg.documents.revoke_batch(acct, bundle.anchor.issuer, root, reason_code(reason))
        done(f"batch {bundle.batch.root} revoked", r)
    else:
        r = reg.documents.revoke_document(acct, DocumentProof.of(bundle), reason_code(reason))
        done(f"document {bundle.document.name} revoked", r)


@click.command("supersede")
@click.option(
    "--bundle",
    "bundle_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The old document's bundle.",
)
@click.option(
    "--by",
    "new_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The amended document's bundle.",
)
@account_option
@pass_ctx
def supersede_cmd(ctx: Context, bundle_path: Path, new_path: Path, account_spec: str | None) -> None:
    """Replace a document by its amended successor: the issuer account that anchored both, or an admin
    of their party."""
    old, new = Bundle.load(bundle_path), Bundle.load(new_path)
    _trusted(ctx, old)
    _trusted(ctx, new)
    reg = ctx.registries()
    r = reg.documents.supersede(ctx.account(account_spec), DocumentProof.of(old), DocumentProof.of(new))
    done(f"{old.document.name} superseded by {new.document.name}", r)


def _use_document(
    ctx: Context, bundle_path: Path, as_party: str, account_spec: str | None
) -> tuple[Registries, LocalAccount, Bundle, str]:
    bundle = Bundle.load(bundle_path)
    _trusted(ctx, bundle)
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    acting = reg.trust.consumer_party(acct.address)
    if acting != as_party.upper():
        raise ConfigError(
            f"account {acct.address} is a consumer account of {acting or 'no party'}, not {as_party.upper()} "
            f"(an admin of {as_party.upper()} grants one: trustanchor role grant-consumer ACCOUNT)"
        )
    destination = bundle.terms.destination
    if destination != acting:
        raise ConfigError(
            f"{bundle.document.name} is destined to {destination or 'no party'}, so {acting} cannot use it"
        )
    return reg, acct, bundle, acting


@click.command("consume")
@click.option("--bundle", "bundle_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as", "as_party", required=True, metavar="PARTY", help="The destination party using the document."
)
@account_option
@pass_ctx
def consume_cmd(ctx: Context, bundle_path: Path, as_party: str, account_spec: str | None) -> None:
    """The destination party's consumer account uses up a one-time document (e.g. a CITES permit at
    import), within its validity period; a second use fails. A document with a quantity is endorsed for
    all that remains."""
    reg, acct, bundle, acting = _use_document(ctx, bundle_path, as_party, account_spec)
    r = reg.documents.consume(acct, DocumentProof.of(bundle), Opening.of(bundle))
    done(f"{bundle.document.name} consumed by {acting}", r)


@click.command("endorse")
@click.option("--bundle", "bundle_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as", "as_party", required=True, metavar="PARTY", help="The destination party endorsing a shipment."
)
@click.option("--amount", required=True, help="The quantity actually shipped, in the document's unit.")
@account_option
@pass_ctx
def endorse_cmd(
    ctx: Context, bundle_path: Path, as_party: str, amount: str, account_spec: str | None
) -> None:
    """Endorse the quantity of one partial shipment against a one-time document's committed quantity;
    the document is used up when the quantity is reached, and more than remains is refused."""
    value = parse_quantity(amount, "--amount")
    reg, acct, bundle, acting = _use_document(ctx, bundle_path, as_party, account_spec)
    quantity = bundle.terms.quantity
    if not quantity:
        raise ConfigError(f"{bundle.document.name} commits to no quantity: consume it instead")
    r = reg.documents.endorse(acct, DocumentProof.of(bundle), Opening.of(bundle), value)
    state = reg.documents.document(
        bundle.anchor.issuer, bytes.fromhex(bundle.batch.root[2:]), bytes.fromhex(bundle.leaf.hash[2:])
    )["state"]
    unit = f" {bundle.terms.unit}" if bundle.terms.unit else ""
    done(
        f"{value}{unit} of {bundle.document.name} endorsed by {acting}: {state['endorsed']} of {quantity}{unit} "
        f"used, {quantity - state['endorsed']}{unit} remain",
        r,
    )
