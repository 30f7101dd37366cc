"""`trustanchor pki init`: a demo/test PKI (root CA, issuing CA, document-signing certificate)."""

from __future__ import annotations

from pathlib import Path

import click

from ..pki import PkiFilesExist, init_pki
from ._common import emit_json, json_option


@click.group("pki")
def pki_group() -> None:
    """Demo PKI for tests and demonstrations; production agencies bring their own."""


@pki_group.command("init")
@click.argument("party")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Directory to write into.")
@click.option(
    "--key-type",
    type=click.Choice(["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "ed25519"]),
    default="ec-p256",
    show_default=True,
    help="Signer key type (CAs use EC or RSA: the verifier's web-PKI profile refuses Ed25519 CAs).",
)
@click.option("--p12-password", help="Password for signer.p12 (default: none).")
@click.option(
    "--force", is_flag=True, help="Replace the keys and certificates of a PKI already in --out (for good)."
)
@json_option
def pki_init(
    party: str, out: Path, key_type: str, p12_password: str | None, force: bool, as_json: bool
) -> None:
    """Create PARTY's root CA, issuing CA and document-signing certificate (EKU 1.3.6.1.5.5.7.3.36).

    Private keys are written readable by their owner only (0600). Existing keys and certificates in
    --out are never overwritten unless --force is given.
    """
    try:
        paths = init_pki(party, out, key_type=key_type, p12_password=p12_password, force=force)
    except PkiFilesExist as e:
        raise PkiFilesExist(f"{e}; give --force to replace them") from None
    files = {k: str(v) for k, v in vars(paths).items()}
    if as_json:
        emit_json(files)
        return
    click.echo(f"PKI for {party.upper()} written to {out}:")
    for k, v in files.items():
        click.echo(f"  {k:<16} {v}")
    click.echo(f"register the national CA with: trustanchor ca add --cert {paths.root_ca} --account ...")
