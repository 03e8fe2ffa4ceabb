"""Check a subunit v2 stream: every test passed, none skipped, at least N tests ran.

Usage: check_subunit.py FILE MIN_TESTS. Prints a summary and, for every test that did not
succeed, its status and its reason/traceback; exits 1 unless all is well.
"""

import sys

import subunit
import testtools


class Collect(testtools.StreamResult):
    def __init__(self):
        super().__init__()
        self.results = {}

    def status(self, test_id=None, test_status=None, file_name=None, file_bytes=None, **kw):
        if not test_id:
            return
        r = self.results.setdefault(test_id, {"status": None, "details": b""})
        if test_status:
            r["status"] = test_status
        if file_bytes and file_name in ("reason", "traceback"):
            r["details"] += bytes(file_bytes)


def main(path, min_tests):
    collector = Collect()
    with open(path, "rb") as f:
        subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout").run(collector)
    results = collector.results
    # setUpClass/tearDownClass pseudo-tests count too: a class skipped or failing in its
    # fixtures shows up as one of them.
    counts = {}
    for r in results.values():
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    summary = ", ".join("%s=%d" % kv for kv in sorted(counts.items()))
    print("compat/tempest: %d tests: %s" % (len(results), summary))
    bad = sorted((t, r) for t, r in results.items() if r["status"] != "success")
    for tid, r in bad:
        print("compat/tempest: %s: %s" % (r["status"], tid))
        details = r["details"].decode("utf-8", "replace").strip()
        if details:
            print(details)
    ok = True
    if len(results) < min_tests:
        print("compat/tempest: expected at least %d tests, %d ran" % (min_tests, len(results)))
        ok = False
    return 0 if ok and not bad else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
