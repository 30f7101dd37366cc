"""Everything the routes delegate to, built once per app from its settings (never at import time)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from anchor.config import ChainConfig, load_config
from anchor.errors import ConfigError
from anchor.verify import load_ca_directory

from .audits import AuditService
from .auth import ApiKeys
from .batcher import Backlog, Batcher
from .bundles import BundleParser, DocumentViews
from .identities import AccountLocks, Identities, load_identities
from .intake import IntakeService, registry_policy
from .ledger import ChainGateway
from .lifecycle import LifecycleService
from .offline import TrustPacks
from .readiness import Readiness
from .registry_reads import RegistryReads
from .settings import ServiceSettings
from .store import BatchStore, CrashPoints, Database, DocumentStore
from .verification import OfflineSettings, VerificationService

log = logging.getLogger("trustanchor.api")


@dataclass
class Services:
    settings: ServiceSettings
    db: Database
    apikeys: ApiKeys
    docs: DocumentStore
    batches: BatchStore
    gateway: ChainGateway
    identities: Identities
    backlog: Backlog
    batcher: Batcher
    intake: IntakeService
    lifecycle: LifecycleService
    verification: VerificationService
    registry: RegistryReads
    readiness: Readiness
    bundles: BundleParser
    audits: AuditService
    packs: TrustPacks
    _views: DocumentViews | None = None

    def views(self) -> DocumentViews:
        """Bundle rendering needs the manifest, which may appear only after start-up."""
        if self._views is None:
            self._views = DocumentViews(self.docs, self.batches, self.verification.manifest())
        return self._views

    def close(self) -> None:
        self.batcher.stop()
        self.verification.close()
        self.db.close()


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def chain_settings(settings: ServiceSettings) -> tuple[ChainConfig, Path]:
    config = load_config(settings.chain_config, home=settings.home)
    manifest = settings.manifest or config.manifest_path
    return config.chain, manifest


def build_services(settings: ServiceSettings, crash: CrashPoints) -> Services:
    chain_config, manifest_path = chain_settings(settings)
    identities = load_identities(settings, chain_config.mnemonic)
    confirmations = chain_config.confirmations if settings.confirmations is None else settings.confirmations
    if settings.batch_max_documents > 1_000_000:
        raise ConfigError("batch_max_documents must be at most 1,000,000")
    db = Database(settings.db_path, synchronous=settings.sqlite_synchronous)
    docs = DocumentStore(db)
    batches = BatchStore(db)
    gateway = ChainGateway(chain_config, manifest_path)
    backlog = Backlog(settings.backlog_limit, docs.backlog())
    locks = AccountLocks(settings.db_path.parent)
    batcher = Batcher(settings, db, gateway, identities, locks, backlog, crash, max(1, confirmations))
    packs = TrustPacks(settings.trust_pack_path, gateway)
    offline = (
        OfflineSettings(packs, settings.pins_path, settings.offline_max_age_seconds)
        if settings.offline
        else None
    )
    verification = VerificationService(
        gateway, max(1, confirmations), load_ca_directory(settings.ca_dir), offline=offline
    )
    services = Services(
        settings=settings,
        db=db,
        apikeys=ApiKeys(db, cache_seconds=1.0),
        docs=docs,
        batches=batches,
        gateway=gateway,
        identities=identities,
        backlog=backlog,
        batcher=batcher,
        intake=IntakeService(
            settings,
            docs,
            backlog,
            batcher,
            identities,
            crash,
            registry_policy(gateway.registries, identities),
        ),
        lifecycle=LifecycleService(gateway, identities, locks, docs, batches),
        verification=verification,
        registry=RegistryReads(gateway),
        readiness=Readiness(gateway, identities, backlog, batcher, settings.anchor_gas_limit),
        bundles=BundleParser(),
        audits=AuditService(gateway, settings.home, confirmations),
        packs=packs,
    )
    log.info(
        "service store %s; issuing for %s; chain %s",
        settings.db_path,
        ", ".join(sorted(identities.issuers)) or "nobody",
        f"none: verifying offline from {settings.trust_pack_path}" if settings.offline else gateway.url,
    )
    return services
