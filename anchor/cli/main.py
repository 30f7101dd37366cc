"""The `trustanchor` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import TrustAnchorError
from ._common import Context
from .audit_cmd import audit_group
from .ca_cmd import ca_group
from .chain_cmd import chain_group, deploy_cmd
from .checkpoint_cmd import bundle_group, checkpoint_group, pack_group
from .demo_cmd import demo_cmd
from .governance_cmd import party_group
from .issue_cmd import issue_cmd
from .issuer_cmd import issuer_group
from .pki_cmd import pki_group
from .plugins import PluginGroup
from .recognition_cmd import recognitions, recognize, unrecognize
from .role_cmd import admin_group, role_group
from .verify_cmd import consume_cmd, endorse_cmd, revoke_cmd, supersede_cmd, verify_cmd

EXIT_ERROR = 3
EXIT_USAGE = 64


# PluginGroup adds the commands installed packages register under `trustanchor.commands` (serve, apikey).
@click.group(
    cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Chain config (TOML). Env: TRUSTANCHOR_CONFIG.",
)
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    help="State directory. Env: TRUSTANCHOR_HOME (default ./.trustanchor).",
)
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    help="Deployment manifest (default: HOME/deployments/NAME.json).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, home: Path | None, manifest: Path | None) -> None:
    """Trust Anchor: cross-border trust for electronic trade documents on a shared ledger."""
    ctx.obj = Context(str(config_path) if config_path else None, home.resolve() if home else None, manifest)


for command in (
    chain_group,
    deploy_cmd,
    party_group,
    ca_group,
    issuer_group,
    recognize,
    unrecognize,
    recognitions,
    pki_group,
    issue_cmd,
    verify_cmd,
    revoke_cmd,
    supersede_cmd,
    consume_cmd,
    endorse_cmd,
    role_group,
    admin_group,
    demo_cmd,
    audit_group,
    checkpoint_group,
    pack_group,
    bundle_group,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Exit codes: 0 success, 1 INVALID / failed check, 2 INDETERMINATE, 3 error, 64 usage error."""
    try:
        code = cli.main(args=argv, prog_name="trustanchor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_ERROR)
    except TrustAnchorError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
