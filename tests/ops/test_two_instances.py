"""Several instances, one shop: two `cloudstore serve` processes (data dirs of their own) on
one PostgreSQL (the test session's database) and one DynamoDB (the session's server), as two
boxes behind one load balancer would be. Whatever a visitor or an attacker does, the answer
is the same whichever instance gets the request: sessions and their end, the login and
registration throttles, the catalog (within CATALOG_REFRESH_SECONDS), an operator's account
commands, stock (concurrent checkouts on both never sell more than there is), and order
sweeps (an unpaid order expires, and its stock comes back, once).

The instances trust X-Forwarded-For from 127.0.0.1 (the default FORWARDED_ALLOW_IPS), so
each test speaks for a client address of its own, as nginx would pass it on."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import count

import boto3
import pytest
from ulid import ULID

from cloudstore.settings import Settings
from tests.helpers import PASSWORD, unique_email
from tests.helpers.serve import ServeProcess, call, zero_config_env

REFRESH = 0.5  # CATALOG_REFRESH_SECONDS of both instances
WITHIN = 20.0  # generous bound for "the other instance sees it" (recheck 2 s, refresh 0.5 s)
_addresses = count(1)


def new_address() -> str:
    """A client address no other test uses (the per-client throttles count per address)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


class Shop:
    """The two instances and the environment they share."""

    def __init__(self, env: dict[str, str], a: ServeProcess, b: ServeProcess, tool_dir) -> None:
        self.env = env
        self.a, self.b = a, b
        self.tool_dir = tool_dir

    @property
    def both(self) -> tuple[str, str]:
        return self.a.base, self.b.base

    def command(self, *args: str, stdin: str | None = None) -> str:
        """An operator's `cloudstore` command on the shared backends (from a third box)."""
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "cloudstore", *args],
            env={**zero_config_env(self.tool_dir), **self.env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def shop(postgres_url, dynamodb, tmp_path_factory):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    env = {
        "CLOUDSTORE_DATABASE_URL": postgres_url,
        "DYNAMODB_ENDPOINT": dynamodb.endpoint,
        "DYNAMODB_PRODUCTS_TABLE": f"{prefix}_Products",
        "DYNAMODB_ORDERS_TABLE": f"{prefix}_Orders",
        "DYNAMODB_CART_TABLE": f"{prefix}_Cart",
        "JWT_SECRET_KEY": "two-instances-" + uuid.uuid4().hex,
        "CATALOG_REFRESH_SECONDS": str(REFRESH),
        "BCRYPT_ROUNDS": "4",
        "LOGIN_LIMIT": "4/hour",
        "REGISTER_LIMIT": "3/hour",
        "MAX_PENDING_ORDERS": "50",
        "ORDER_SWEEP_SECONDS": "0.5",  # both instances sweep for expired orders, often
    }
    root = tmp_path_factory.mktemp("two-instances")
    # The first creates the tables and loads the seed catalog; the second finds them.
    a = ServeProcess(root / "a", root / "a.log", env=env)
    try:
        b = ServeProcess(root / "b", root / "b.log", env=env, args=("--no-seed",))
    except BaseException:
        a.stop()
        raise
    yield Shop(env, a, b, root / "tools")
    for instance in (a, b):
        assert instance.stop() == 0, instance.output()


def eventually(check, within: float = WITHIN):
    """Poll `check()` until it returns something truthy; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("not seen in time")
        time.sleep(0.1)


def register(base: str, email: str | None = None, address: str | None = None) -> str:
    status, body = call(
        base,
        "POST",
        "/api/auth/register",
        {"name": "Budi", "email": email or unique_email(), "password": PASSWORD},
        headers={"X-Forwarded-For": address or new_address()},
    )
    assert status == 201, body
    return body["token"]


def login(base: str, email: str, password: str, address: str) -> tuple[int, object]:
    return call(
        base,
        "POST",
        "/api/auth/login",
        {"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


def verify(base: str, token: str) -> int:
    return call(base, "GET", "/api/auth/verify", token=token)[0]


def product_on(base: str, product_id: str) -> dict | None:
    status, body = call(base, "GET", f"/api/products/{product_id}")
    return body["data"] if status == 200 else None


def admin_token(shop: Shop) -> str:
    email = unique_email("admin")
    shop.command("create-admin", "--email", email, "--password-stdin", stdin="admin-pass-1\n")
    status, body = login(shop.b.base, email, "admin-pass-1", new_address())
    assert status == 200, body
    return body["token"]


# --- sessions --------------------------------------------------------------------------------


def test_a_session_started_on_one_instance_is_valid_on_the_other(shop):
    token = register(shop.a.base)
    assert verify(shop.b.base, token) == 200


def test_a_logout_on_one_instance_ends_the_session_on_the_other(shop):
    token = register(shop.a.base)
    assert verify(shop.a.base, token) == 200  # instance A knows the session
    assert call(shop.b.base, "POST", "/api/auth/logout", token=token)[0] == 204
    eventually(lambda: verify(shop.a.base, token) == 401)


def test_logout_everywhere_on_one_instance_ends_the_sessions_the_other_knows(shop):
    email = unique_email()
    first = register(shop.a.base, email=email)
    status, body = login(shop.b.base, email, PASSWORD, new_address())
    second = body["token"]
    assert verify(shop.a.base, second) == verify(shop.b.base, first) == 200
    assert call(shop.a.base, "POST", "/api/auth/logout-all", token=first)[0] == 204
    eventually(lambda: verify(shop.b.base, first) == verify(shop.a.base, second) == 401)


# --- throttles -------------------------------------------------------------------------------


def test_failed_logins_on_both_instances_share_one_budget(shop):
    email = unique_email()
    register(shop.a.base, email=email)
    address = new_address()
    statuses = [
        login(shop.both[attempt % 2], email, "wrong-password", address)[0] for attempt in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]


def test_registrations_on_both_instances_share_one_budget(shop):
    address = new_address()
    statuses = []
    for attempt in range(4):
        status, _ = call(
            shop.both[attempt % 2],
            "POST",
            "/api/auth/register",
            {"name": "Budi", "email": unique_email(), "password": PASSWORD},
            headers={"X-Forwarded-For": address},
        )
        statuses.append(status)
    assert statuses == [201, 201, 201, 429]


# --- an operator's account commands ----------------------------------------------------------


def test_a_disabled_account_is_refused_by_both_instances(shop):
    email = unique_email()
    token = register(shop.a.base, email=email)
    assert verify(shop.a.base, token) == verify(shop.b.base, token) == 200
    shop.command("disable-user", "--email", email)
    eventually(lambda: verify(shop.a.base, token) == verify(shop.b.base, token) == 401)
    assert login(shop.b.base, email, PASSWORD, new_address())[0] == 401


def test_a_new_role_is_seen_by_both_instances(shop):
    email = unique_email()
    token = register(shop.a.base, email=email)
    for base in shop.both:
        assert call(base, "GET", "/api/admin/orders", token=token)[0] == 403
    shop.command("set-role", "--email", email, "admin")

    def admin_on_both() -> bool:
        return all(call(b, "GET", "/api/admin/orders", token=token)[0] == 200 for b in shop.both)

    eventually(admin_on_both)


# --- the catalog -----------------------------------------------------------------------------


def new_product(shop: Shop, token: str, stock: int) -> str:
    status, body = call(
        shop.a.base,
        "POST",
        "/api/admin/products",
        {
            "name": f"Two instances {uuid.uuid4().hex[:8]}",
            "price": 15000,
            "category": "compute",
            "stock": stock,
        },
        token=token,
    )
    assert status == 201, body
    return body["data"]["product_id"]


def test_a_product_created_on_one_instance_appears_on_the_other(shop):
    product_id = new_product(shop, admin_token(shop), stock=7)
    assert product_on(shop.a.base, product_id)["stock"] == 7  # at once where it was made
    assert eventually(lambda: product_on(shop.b.base, product_id))["stock"] == 7


def test_a_stock_change_on_one_instance_reaches_the_other(shop):
    token = admin_token(shop)
    product_id = new_product(shop, token, stock=7)
    status, body = call(
        shop.b.base, "POST", f"/api/admin/products/{product_id}/stock", {"delta": 5}, token=token
    )
    assert status == 200, body
    assert product_on(shop.b.base, product_id)["stock"] == 12
    eventually(lambda: (product_on(shop.a.base, product_id) or {}).get("stock") == 12)


# --- stock ----------------------------------------------------------------------------------


def test_concurrent_checkouts_on_both_instances_never_oversell(shop):
    stock, buyers = 5, 12
    product_id = new_product(shop, admin_token(shop), stock=stock)
    eventually(lambda: product_on(shop.b.base, product_id))
    tokens = [register(shop.both[n % 2]) for n in range(buyers)]

    def buy(n: int) -> tuple[int, object]:
        return call(
            shop.both[n % 2],
            "POST",
            "/api/orders",
            {
                "items": [{"product_id": product_id, "quantity": 1}],
                "shipping_address": {
                    "name": "Budi Santoso",
                    "phone": "+62 812 3456 7890",
                    "address": "Jl. Sudirman No. 1",
                    "city": "Jakarta",
                    "postal_code": "10220",
                },
            },
            token=tokens[n],
        )

    with ThreadPoolExecutor(max_workers=buyers) as pool:
        answers = list(pool.map(buy, range(buyers)))
    statuses = [status for status, _ in answers]
    assert statuses.count(201) == stock, answers
    assert set(statuses) <= {201, 409}, answers
    # Orders are exactly the stock sold: every buyer's own list, asked of either instance.
    orders = sum(
        call(shop.both[n % 2], "GET", "/api/orders", token=tokens[n])[1]["count"]
        for n in range(buyers)
    )
    assert orders == stock
    for base in shop.both:
        eventually(lambda base=base: product_on(base, product_id)["stock"] == 0)


# --- orders swept across instances ------------------------------------------------------------


def backdate(shop: Shop, order: dict, hours: float) -> str:
    """The order as if placed `hours` ago with its payment window long passed: stored again
    under an id from then (ids are time-ordered ULIDs, which the sweep's Query reads), the
    original removed. Returns the new id."""
    dynamo = boto3.client(
        "dynamodb",
        endpoint_url=shop.env["DYNAMODB_ENDPOINT"],
        region_name=Settings().aws_region,  # the instances' (the default)
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = shop.env["DYNAMODB_ORDERS_TABLE"]
    key = {"user_id": {"S": order["user_id"]}, "order_id": {"S": order["order_id"]}}
    item = dynamo.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    then = datetime.now(UTC) - timedelta(hours=hours)
    new_id = f"ORD-{ULID.from_datetime(then)}"
    passed = (then + timedelta(minutes=30)).isoformat(timespec="milliseconds")
    passed = passed.replace("+00:00", "Z")
    item["order_id"] = {"S": new_id}
    item["expires_at"] = {"S": passed}
    item["payment"]["M"]["expires_at"] = {"S": passed}
    dynamo.put_item(TableName=table, Item=item)
    dynamo.delete_item(TableName=table, Key=key)
    return new_id


def test_an_unpaid_order_past_its_window_expires_once_whichever_instance_sweeps(shop):
    product_id = new_product(shop, admin_token(shop), stock=4)
    eventually(lambda: product_on(shop.b.base, product_id))
    token = register(shop.a.base)
    status, body = call(
        shop.a.base,
        "POST",
        "/api/orders",
        {
            "items": [{"product_id": product_id, "quantity": 3}],
            "shipping_address": {
                "name": "Budi Santoso",
                "phone": "+62 812 3456 7890",
                "address": "Jl. Sudirman No. 1",
                "city": "Jakarta",
                "postal_code": "10220",
            },
        },
        token=token,
    )
    assert status == 201, body
    order_id = backdate(shop, body["data"], hours=2)

    def expired_order():
        status, body = call(shop.b.base, "GET", f"/api/orders/{order_id}", token=token)
        return body["data"] if status == 200 and body["data"]["status"] == "expired" else None

    order = eventually(expired_order)
    for base in shop.both:  # the 3 units back, once
        eventually(lambda base=base: product_on(base, product_id)["stock"] == 4)
    time.sleep(2)  # several more sweeps on both instances
    _, again = call(shop.a.base, "GET", f"/api/orders/{order_id}", token=token)
    history = again["data"]["status_history"]
    assert [entry["status"] for entry in history] == ["pending", "expired"]
    assert history[-1]["by"] == "system" and history[-1]["reason"] == "payment window passed"
    assert order["payment"]["status"] == "expired"
    assert [product_on(base, product_id)["stock"] for base in shop.both] == [4, 4]
