"""Real-client checks of the stand-in from Python: Microsoft ODBC Driver 18 (via mssql_python)
and python-tds (pytds). Prints one PASS/FAIL/SKIP line per check; exits 1 if any check failed.

Usage: check_python.py DRIVER MODE PORT SERVER_NAME PASSWORD CERT_PEM
  DRIVER: odbc | pytds; MODE: the stand-in's --encrypt (off | login | on | strict).
"""

import os
import sys

DRIVER, MODE, PORT, SERVER_NAME, PASSWORD, CERT = sys.argv[1:7]
PORT = int(PORT)
failures = 0


def report(ok, what, detail=""):
    global failures
    if not ok:
        failures += 1
    print(f"{'PASS' if ok else 'FAIL'}: {DRIVER}/{MODE}: {what}{' -- ' + detail if detail else ''}")


# How each driver is told to use the encryption the mode offers; None = not supported.
ODBC_ENCRYPT = {"off": "no", "login": "no", "on": "yes", "strict": "strict"}
PYTDS_TLS = {"off": None, "login": "login-only", "on": "full", "strict": "unsupported"}


def odbc_connect(password, autocommit=True, database="master"):
    import mssql_python

    # Full TLS validates the certificate: OpenSSL reads the trust store from SSL_CERT_FILE and
    # ODBC checks the host name against the certificate's DNS names (hence localhost).
    os.environ["SSL_CERT_FILE"] = CERT
    encrypt = ODBC_ENCRYPT[MODE]
    trust = "yes" if encrypt == "no" else "no"
    host = "localhost" if encrypt != "no" else "127.0.0.1"
    return mssql_python.connect(
        f"Server=tcp:{host},{PORT};UID=sa;PWD={{{password}}};Encrypt={encrypt};"
        f"TrustServerCertificate={trust};Database={database}",
        autocommit=autocommit,
        timeout=10,
    )


def pytds_connect(password, database="master"):
    import pytds

    tls = PYTDS_TLS[MODE]
    options = {}
    if tls in ("login-only", "full"):
        # The chain is validated against the CA file; pytds' host-name check needs an older
        # pyOpenSSL (X509.get_extension is gone from pyOpenSSL 24.3 on), so it is off.
        options = {"cafile": CERT, "validate_host": False, "enc_login_only": tls == "login-only"}
    return pytds.connect(
        server="localhost", port=PORT, user="sa", password=password, database=database,
        login_timeout=10, autocommit=True, **options
    )


def error_number(error):
    """pytds exposes the server's message number; ODBC through mssql_python only the text."""
    return getattr(error, "msg_no", None) or getattr(error, "number", None)


def expect_rows(cursor, sql, params, expected):
    try:
        if params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)
        rows = [tuple(row) for row in cursor.fetchall()]
    except Exception as error:  # the driver's own error classes
        report(False, sql, str(error))
        return
    report(rows == expected, sql, repr(rows))


def expect_error(cursor, sql, number, text):
    try:
        cursor.execute(sql)
        cursor.fetchall()
    except Exception as error:  # the driver's own error classes
        if DRIVER == "pytds":
            report(error_number(error) == number, f"{sql} -> Msg {number}", f"got {error_number(error)}: {error}")
        else:
            report(text in str(error), f"{sql} -> '{text}'", str(error))
        return
    report(False, f"{sql} -> Msg {number}", "no error raised")


def main():
    if DRIVER == "pytds" and PYTDS_TLS[MODE] == "unsupported":
        print(f"SKIP: pytds/{MODE}: python-tds does not implement TDS 8.0 strict encryption")
        return
    connect = odbc_connect if DRIVER == "odbc" else pytds_connect
    placeholder = "?" if DRIVER == "odbc" else "%s"
    try:
        connection = connect(PASSWORD)
    except Exception as error:
        report(False, "login", str(error))
        return
    report(True, "login")
    cursor = connection.cursor()

    expect_rows(cursor, "SELECT @@SERVERNAME", (), [(SERVER_NAME,)])
    # A parameterised query: ODBC sends sp_prepexec, pytds sp_executesql, both as RPCs.
    expect_rows(cursor, f"SELECT name FROM sys.servers WHERE name = {placeholder}", (SERVER_NAME,), [(SERVER_NAME,)])
    expect_error(cursor, "EXEC sp_dropserver N'nope'", 15015, "The server 'nope' does not exist")
    expect_error(cursor, "EXEC nope", 2812, "Could not find stored procedure 'nope'")
    # TRY...CATCH: a caught error is not sent (the driver sees only the CATCH block's rows), a
    # re-raised one arrives with its original number; also with a parameter (an RPC).
    expect_rows(
        cursor,
        "BEGIN TRY EXEC sp_dropserver N'nope' END TRY BEGIN CATCH SELECT ERROR_NUMBER(), ERROR_PROCEDURE() END CATCH",
        (), [(15015, "sys.sp_dropserver")],
    )
    expect_rows(
        cursor,
        f"DECLARE @rc int = 7; BEGIN TRY EXEC @rc = sp_dropserver {placeholder} END TRY "
        "BEGIN CATCH SELECT ERROR_NUMBER(), @rc END CATCH",
        ("nope",), [(15015, 7)],
    )
    expect_error(
        cursor, "BEGIN TRY EXEC sp_dropserver N'nope' END TRY BEGIN CATCH THROW; END CATCH", 15015,
        "The server 'nope' does not exist",
    )
    connection.close()

    if DRIVER == "odbc":
        # Without autocommit ODBC opens transactions with transaction manager requests.
        try:
            connection = odbc_connect(PASSWORD, autocommit=False)
            cursor = connection.cursor()
            cursor.execute("SELECT @@SERVERNAME")
            rows = [tuple(row) for row in cursor.fetchall()]
            connection.commit()
            connection.close()
            report(rows == [(SERVER_NAME,)], "transaction manager BEGIN + COMMIT around a batch", repr(rows))
        except Exception as error:
            report(False, "transaction manager BEGIN + COMMIT around a batch", str(error))

    try:
        connect(PASSWORD + "x")
        report(False, "wrong password -> Msg 18456", "login succeeded")
    except Exception as error:
        if DRIVER == "pytds":
            report(error_number(error) == 18456, "wrong password -> Msg 18456", f"{error_number(error)}: {error}")
        else:
            report("Login failed for user 'sa'" in str(error), "wrong password -> login failed", str(error))

    # SQL Server answers 4060 then 18456 and closes; each driver shows what it keeps of them:
    # pytds joins the texts in order under the last number, ODBC reports the login failure.
    cannot_open = 'Cannot open database "NoSuchDb" requested by the login. The login failed.'
    login_failed = "Login failed for user 'sa'."
    what = "unknown database -> Msg 4060 then 18456"
    try:
        connect(PASSWORD, database="NoSuchDb")
        report(False, what, "login succeeded")
    except Exception as error:
        if DRIVER == "pytds":
            text = error.args[0] if error.args else ""
            report(error_number(error) == 18456 and text == f"{cannot_open} {login_failed}",
                   what, f"{error_number(error)}: {error}")
        else:
            report("Invalid authorization specification" in str(error) and login_failed in str(error),
                   "unknown database -> login failed", str(error))


main()
sys.exit(1 if failures else 0)
