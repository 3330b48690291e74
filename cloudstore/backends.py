"""The one typed object a process holds its connections and stores on.

Created by the app factory, opened in `before_serving`, closed in `after_serving`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from cloudstore.auth import PasswordHasher, TokenService
from cloudstore.domain.errors import BackendUnavailable
from cloudstore.payments import PaymentProvider, provider_for
from cloudstore.settings import Settings
from cloudstore.shop.throttle import LoginThrottle
from cloudstore.stores.carts import CartStore
from cloudstore.stores.catalog import CatalogStore
from cloudstore.stores.dynamo import Dynamo
from cloudstore.stores.idempotency import IdempotencyStore
from cloudstore.stores.mail import MailQueue, transport_for
from cloudstore.stores.media import MediaStore, media_store
from cloudstore.stores.orders import OrderStore
from cloudstore.stores.password_resets import PasswordResetStore
from cloudstore.stores.postgres import Postgres
from cloudstore.stores.sessions import SessionCache, SessionStore
from cloudstore.stores.throttle import AttemptCounters
from cloudstore.stores.users import UserCache, UserStore

log = logging.getLogger(__name__)


@dataclass
class Backends:
    settings: Settings
    postgres: Postgres
    dynamo: Dynamo
    users: UserStore
    catalog: CatalogStore
    carts: CartStore
    orders: OrderStore
    tokens: TokenService
    sessions: SessionStore
    login_throttle: LoginThrottle
    mail: MailQueue
    password_resets: PasswordResetStore
    # The payment provider (PAYMENT_PROVIDER); Midtrans's HTTP client opens and closes here.
    payments: PaymentProvider
    media: MediaStore
    user_cache: UserCache = field(default_factory=UserCache)
    session_cache: SessionCache = field(default_factory=SessionCache)
    _hasher: PasswordHasher | None = field(default=None, repr=False)
    _setup_task: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Backends:
        postgres = Postgres(settings.postgres_conninfo(), timeout=settings.backend_timeout)
        dynamo = Dynamo(settings)
        assert settings.jwt_secret_key, "the app factory provides a secret"
        return cls(
            settings=settings,
            postgres=postgres,
            dynamo=dynamo,
            users=UserStore(postgres),
            catalog=CatalogStore(
                dynamo,
                settings.products_table,
                settings.catalog_refresh_seconds,
                settings.catalog_full_reload_seconds,
            ),
            carts=CartStore(dynamo, settings.cart_table),
            orders=OrderStore(
                dynamo, settings.orders_table, settings.products_table, settings.cart_table
            ),
            tokens=TokenService(settings.jwt_secret_key, settings.jwt_expiry_hours),
            sessions=SessionStore(postgres),
            login_throttle=LoginThrottle(
                AttemptCounters(postgres, settings.jwt_secret_key),
                per_account=settings.login_limit,
                per_client=settings.login_client_limit,
                registrations_per_client=settings.register_limit,
                resets_per_client=settings.reset_limit,
                resets_per_account=settings.reset_email_limit,
            ),
            mail=MailQueue(transport_for(settings)),
            password_resets=PasswordResetStore(postgres),
            payments=provider_for(settings),
            media=media_store(settings),
        )

    @property
    def hasher(self) -> PasswordHasher:
        """The password hasher; it exists between `open()` and `close()`."""
        if self._hasher is None:
            raise RuntimeError("the backends are not open")
        return self._hasher

    @property
    def idempotency(self) -> IdempotencyStore:
        """Idempotency key records (in the Orders table), for checkouts and stock changes."""
        return self.orders.keys

    async def open(self) -> None:
        # The semaphore must be created inside the serving event loop.
        self._hasher = PasswordHasher(
            self.settings.password_hash_concurrency, self.settings.bcrypt_rounds
        )
        await self.dynamo.open()
        await self.media.open(self.dynamo.session)
        await self.postgres.open()
        await self.payments.open()
        if not await self._set_up_dynamodb():
            self._setup_task = asyncio.create_task(self._retry_setup())
        self.catalog.start_refresher()
        await self.mail.start()

    async def _set_up_dynamodb(self) -> bool:
        try:
            await self.dynamo.ensure_tables()
            self.catalog.load_in_background()
            return True
        except (BackendUnavailable, ClientError) as error:
            log.warning("DynamoDB not ready (%s); retrying in the background", type(error).__name__)
            return False

    async def _retry_setup(self) -> None:
        while not await self._set_up_dynamodb():  # noqa: ASYNC110 - polling a remote service
            await asyncio.sleep(2)

    async def close(self) -> None:
        if self._setup_task is not None:
            self._setup_task.cancel()
        await self.mail.stop()  # first: order mail still looks its customer up
        if self.session_cache.writer is not None:
            self.session_cache.writer.cancel()
        await self.catalog.stop_refresher()
        await self.media.close()
        await self.dynamo.close()
        await self.postgres.close()
        await self.payments.close()
        if self._hasher is not None:
            self._hasher.close()
