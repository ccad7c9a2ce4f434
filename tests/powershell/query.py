#!/usr/bin/env python3
"""An independent client for the PowerShell tests: runs one T-SQL batch with python-tds (pytds)
against a stand-in and prints its result rows as JSON. The tests check what the module did
through it, never through the module itself.

Usage: query.py PORT USER CAFILE SQL   (the password comes from LSV_QUERY_PASSWORD)
Prints {"rows": [[...], ...]} for the last result set, or {"error": number, "message": text}
with exit code 0 when the server refused the batch; exit 1 on a client failure.
"""
import json
import os
import sys

import pytds


def main():
    port, user, cafile, sql = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    # pytds' host-name check needs an older pyOpenSSL; the chain is still validated.
    connection = pytds.connect(server="localhost", port=int(port), user=user,
                               password=os.environ["LSV_QUERY_PASSWORD"], database="master",
                               login_timeout=10, autocommit=True, cafile=cafile,
                               validate_host=False)
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql)
        except pytds.tds_base.Error as error:
            number = getattr(error, "msg_no", None) or getattr(error, "number", None)
            print(json.dumps({"error": number, "message": str(error)}))
            return 0
        rows = []
        while True:
            if cursor.description is not None:
                rows = [list(row) for row in cursor.fetchall()]
            if not cursor.nextset():
                break
        print(json.dumps({"rows": rows}, default=str))
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
