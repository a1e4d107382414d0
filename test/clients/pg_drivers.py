"""Drives one Python PostgreSQL driver through the Airlock gateway and prints what it saw as JSON.

    python pg_drivers.py asyncpg|psycopg <host> <port> <dbname>   (the token comes in AIRLOCK_TOKEN)

TLS is required by the gateway; its certificate is self-signed in the tests, so it is not verified.
Each step records its result or the SQLSTATE and message of the error the driver raised; the
calling test judges them.
"""

import asyncio
import json
import os
import ssl
import sys

SELECT = "SELECT count(*) AS n FROM orders"
MASKED = "SELECT name, ssn FROM customers WHERE id = 1"
DENIED = "DROP TABLE customers"
PREPARED_ASYNCPG = "SELECT name FROM customers WHERE id = $1"
PREPARED_PSYCOPG = "SELECT name FROM customers WHERE id = %s"


def refusal(err):
    return {"sqlstate": getattr(err, "sqlstate", None), "message": str(err).splitlines()[0] if str(err) else ""}


async def run_asyncpg(host, port, dbname, token):
    import asyncpg

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = {"driver": "asyncpg", "version": asyncpg.__version__}
    conn = await asyncpg.connect(host=host, port=port, user="agent", database=dbname, password=token, ssl=ctx)
    try:
        out["encoding"] = await conn.fetchval("SHOW client_encoding")
        out["select"] = await conn.fetchval(SELECT)
        row = await conn.fetchrow(MASKED)
        out["masked"] = [row["name"], row["ssn"]]
        try:
            await conn.execute(DENIED)
            out["denied"] = {"sqlstate": None, "message": "executed"}
        except asyncpg.PostgresError as err:
            out["denied"] = {"sqlstate": err.sqlstate, "message": err.args[0] if err.args else str(err)}
        stmt = await conn.prepare(PREPARED_ASYNCPG)
        out["prepared"] = [await stmt.fetchval(1), await stmt.fetchval(2)]
        out["after"] = await conn.fetchval("SELECT 40 + 2")
    finally:
        await conn.close()
    return out


def run_psycopg(host, port, dbname, token):
    import psycopg

    out = {"driver": "psycopg", "version": psycopg.__version__}
    with psycopg.connect(
        host=host, port=port, dbname=dbname, user="agent", password=token, sslmode="require", autocommit=True
    ) as conn:
        out["encoding"] = conn.execute("SHOW client_encoding").fetchone()[0]
        out["select"] = conn.execute(SELECT).fetchone()[0]
        out["masked"] = list(conn.execute(MASKED).fetchone())
        try:
            conn.execute(DENIED)
            out["denied"] = {"sqlstate": None, "message": "executed"}
        except psycopg.Error as err:
            out["denied"] = {"sqlstate": err.sqlstate, "message": err.diag.message_primary}
        # prepare=True: a named server-side prepared statement (Parse once, then Bind/Execute).
        out["prepared"] = [
            conn.execute(PREPARED_PSYCOPG, (i,), prepare=True).fetchone()[0] for i in (1, 2)
        ]
        out["after"] = conn.execute("SELECT 40 + 2").fetchone()[0]
    return out


def main():
    driver, host, port, dbname = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    token = os.environ["AIRLOCK_TOKEN"]
    try:
        if driver == "asyncpg":
            out = asyncio.run(run_asyncpg(host, port, dbname, token))
        elif driver == "psycopg":
            out = run_psycopg(host, port, dbname, token)
        else:
            raise SystemExit(f"unknown driver {driver}")
    except Exception as err:  # a failed connect is a result too: the test shows it
        out = {"driver": driver, "error": refusal(err), "type": type(err).__name__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
