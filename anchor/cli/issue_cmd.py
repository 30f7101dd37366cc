"""`trustanchor issue`: anchor documents in one go and write one proof bundle per document."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .. import profiles
from ..doctypes import type_id
from ..issuing.batch import DocumentInput, DocumentIssuer, SignerChainError
from ..issuing.canonical import digest_file
from ..issuing.leaf import LeafError, Terms
from ..issuing.signing import Signer
from ..journal import Journal, JournalEntry
from ._common import (
    Context,
    account_option,
    emit_json,
    is_tty,
    json_option,
    parse_quantity,
    parse_time,
    pass_ctx,
    plural,
)


@click.command("issue")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--doc-type", required=True, help="Document type of all FILES (e.g. cites-permit).")
@click.option(
    "--signer-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Signing key (PEM)."
)
@click.option(
    "--signer-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Signing certificate (PEM).",
)
@click.option(
    "--chain-cert",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificate(s) to include in the bundles (repeatable).",
)
@click.option(
    "--p12",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PKCS#12 bundle instead of key+cert.",
)
@click.option("--p12-password", envvar="TRUSTANCHOR_P12_PASSWORD", help="Password of --p12.")
@click.option("--media-type", help="Media type of all FILES (default: from each file's extension).")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Bundle directory."
)
@click.option(
    "--batch-size", type=int, default=1_000_000, show_default=True, help="Documents per Merkle batch."
)
@click.option(
    "--destination", metavar="PARTY", help="Destination party of all FILES (one-time use there only)."
)
@click.option("--valid-from", metavar="TIME", help="Valid from (unix seconds or ISO 8601); default open.")
@click.option("--valid-until", metavar="TIME", help="Valid until (unix seconds or ISO 8601); default open.")
@click.option("--quantity", metavar="N", help="Quantity that partial shipments may endorse up to.")
@click.option("--unit", help="Unit of --quantity (1-8 letters or digits, e.g. pieces, kg).")
@click.option(
    "--no-profile",
    is_flag=True,
    help="Do not read terms from the documents with the type's term profile (TRUSTANCHOR_PROFILES).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@account_option
@json_option
@pass_ctx
def issue_cmd(
    ctx: Context,
    files: tuple[Path, ...],
    doc_type: str,
    signer_key: Path | None,
    signer_cert: Path | None,
    chain_cert: tuple[Path, ...],
    p12: Path | None,
    p12_password: str | None,
    media_type: str | None,
    out: Path,
    batch_size: int,
    destination: str | None,
    valid_from: str | None,
    valid_until: str | None,
    quantity: str | None,
    unit: str | None,
    no_profile: bool,
    quiet: bool,
    account_spec: str | None,
    as_json: bool,
) -> None:
    """Anchor FILES as documents of one type; write OUT/<file name>.bundle.json for each.

    Documents this issuer already anchored (per the journal under TRUSTANCHOR_HOME) are reported and
    left alone, and so are their existing bundles.
    """
    if p12 is not None and chain_cert:
        raise click.UsageError(
            "--chain-cert goes with --signer-key/--signer-cert; a PKCS#12 file carries its chain"
        )
    if p12 is not None:
        signer = Signer.from_pkcs12(p12, p12_password)
    elif signer_key is not None and signer_cert is not None:
        signer = Signer.from_pem(signer_key, signer_cert, chain_cert)
    else:
        raise click.UsageError("give --signer-key and --signer-cert, or --p12")
    tid = type_id(doc_type)
    try:
        terms = Terms(
            destination=destination or "",
            valid_from=parse_time(valid_from),
            valid_until=parse_time(valid_until),
            quantity=parse_quantity(quantity, "--quantity") if quantity is not None else 0,
            unit=unit or "",
        )
    except LeafError as exc:
        raise click.UsageError(str(exc)) from None
    names = [f.name for f in files]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise click.UsageError(
            f"several inputs share the file name {dupes[0]!r}: bundles would overwrite each other"
        )
    account = ctx.account(account_spec)
    reg = ctx.registries()
    show = is_tty() and not quiet and not as_json
    if terms.destination:
        members = [p for p in reg.trust.parties() if reg.trust.is_member(p)]
        if terms.destination not in members:
            raise click.UsageError(
                f"--destination {terms.destination} is not a member party (members: {', '.join(members)})"
            )

    digests = []
    for f in files:
        digest = digest_file(f, media_type)
        profile = None if no_profile else profiles.profile_for(tid, digest.media_type)
        own = profiles.merge(profile.read(f.read_bytes(), str(f)), terms) if profile else terms
        digests.append(DocumentInput(f.name, digest, own))
    out.mkdir(parents=True, exist_ok=True)
    with Journal(ctx.config.home / "journal.sqlite") as journal:
        known = journal.known(account.address, tid, [d.digest.digest for d in digests])
        fresh: list[DocumentInput] = []
        seen: set[bytes] = set()
        already: list[dict[str, object]] = []
        for d in digests:
            if d.digest.digest in known:
                e = known[d.digest.digest]
                already.append({"file": d.name, "bundle": e.bundle_path, "transaction": e.tx_hash})
            elif d.digest.digest in seen:
                already.append({"file": d.name, "bundle": None, "transaction": None, "duplicateInput": True})
            else:
                seen.add(d.digest.digest)
                fresh.append(d)
        # Nothing is signed or anchored unless the bundles can verify: the signer's chain must lead to
        # the CA the issuer account is bound to on chain, at the chain's time.
        issuer = DocumentIssuer(reg, account, signer, max_batch=batch_size)
        try:
            if show and fresh:
                with Progress(
                    TextColumn("anchoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
                ) as bar:
                    task = bar.add_task("docs", total=len(fresh))
                    result = issuer.issue(fresh, tid, progress=lambda n: bar.advance(task, n))
                    bar.update(task, completed=len(fresh))
            else:
                result = issuer.issue(fresh, tid)
        except SignerChainError as e:
            if not e.missing_ca:
                raise
            where = "the PKCS#12 file must carry it" if p12 is not None else "give it with --chain-cert"
            raise SignerChainError(f"{e} ({where})", missing_ca=True) from None
        entries = []
        for doc in result.documents:
            path = out / f"{doc.name}.bundle.json"
            path.write_text(doc.bundle_json)
            entries.append(
                JournalEntry(
                    doc.digest,
                    doc.name,
                    str(path.resolve()),
                    doc.root,
                    doc.leaf,
                    doc.transaction_hash,
                    doc.block_number,
                )
            )
        journal.record(account.address, tid, entries)
    summary = {
        "documents": len(fresh),
        "alreadyAnchored": already,
        "batches": result.batches,
        "transactions": result.transactions,
        "gasUsed": result.gas_used,
        "seconds": round(result.seconds, 3),
        "transactionHashes": result.transaction_hashes,
        "out": str(out),
    }
    if as_json:
        emit_json(summary)
        return
    click.echo(
        f"anchored {plural(len(fresh), 'document')} in {plural(result.batches, 'batch', 'batches')}, "
        f"{plural(result.transactions, 'transaction')}, {result.gas_used} gas, {result.seconds:.2f} s; "
        f"bundles in {out}"
    )
    for a in already:
        why = (
            "duplicate of another input"
            if a.get("duplicateInput")
            else f"already anchored (bundle {a['bundle']})"
        )
        click.echo(f"  skipped {a['file']}: {why}")
