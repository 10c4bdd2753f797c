#!/usr/bin/python
# The nodecheck Ansible module for nodes with the nodecheck package installed: instead of copying the
# 10 MB binary module to the node for every task, Ansible copies this small file, which runs the node's
# own nodecheck with the task's arguments and returns its JSON result unchanged. Same parameters and
# results as the `nodecheck` module, plus `binary` and `min_version` below.
#
# WANT_JSON: Ansible passes the task's arguments as a JSON file (argv[1]), exactly as it does to the
# binary module; this file forwards them without its own two parameters.

DOCUMENTATION = r"""
module: nodecheck_installed
short_description: Run the nodecheck installed on the node as the nodecheck module
description:
  - Runs the node's installed nodecheck (O(binary)) with the task's arguments and returns its result
    unchanged. Parameters, check mode, diff mode and return values are those of the C(nodecheck) module
    (C(ansible-doc nodecheck)); only O(binary) and O(min_version) are added.
  - Fails with a message naming the path when O(binary) is missing or not executable, and when its version
    is older than O(min_version).
  - Use the C(nodecheck) binary module on nodes without the package.
options:
  binary:
    description: Path of the nodecheck binary on the node.
    type: path
    default: /usr/bin/nodecheck
  min_version:
    description: Oldest nodecheck version accepted (the version this module was shipped with by default).
    type: str
author:
  - nodecheck maintainers
"""

import json
import os
import re
import subprocess
import sys
import tempfile

# The version of nodecheck this module (and the playbooks next to it) was shipped with.
SHIPPED_WITH = "0.1.0"
OWN_PARAMETERS = ("binary", "min_version")


def fail(msg):
    print(json.dumps({"failed": True, "changed": False, "msg": msg}))
    sys.exit(1)


def version_tuple(text):
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(part) for part in match.groups()) if match else None


def main():
    if len(sys.argv) != 2:
        fail("nodecheck_installed: expected the module's arguments file as the only argument")
    try:
        with open(sys.argv[1]) as args_file:
            args = json.load(args_file)
    except (OSError, ValueError) as e:
        fail("nodecheck_installed: cannot read the module's arguments: %s" % e)
    if not isinstance(args, dict):
        fail("nodecheck_installed: the module's arguments are not a JSON object")

    binary = args.get("binary") or "/usr/bin/nodecheck"
    min_version = str(args.get("min_version") or SHIPPED_WITH)
    wanted = version_tuple(min_version)
    if wanted is None:
        fail("value of min_version must be a version like %s, got: %s" % (SHIPPED_WITH, min_version))
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        fail(
            "%s: nodecheck is not installed on this node (no executable file there); install the "
            "nodecheck package, set binary to where it is, or use the nodecheck binary module "
            "(nodecheck_module=binary)" % binary
        )
    try:
        shown = subprocess.run(
            [binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30
        ).stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.SubprocessError) as e:
        fail("%s --version did not run: %s" % (binary, e))
    found = version_tuple(shown.split()[-1]) if shown.split() else None
    if found is None:
        fail("%s --version printed %r, not a nodecheck version" % (binary, shown[:200]))
    if found < wanted:
        fail(
            "%s is nodecheck %s; these playbooks need %s or newer: upgrade the nodecheck package on "
            "this node, or use the nodecheck binary module (nodecheck_module=binary)"
            % (binary, ".".join(map(str, found)), min_version)
        )

    forwarded = dict((k, v) for k, v in args.items() if k not in OWN_PARAMETERS)
    with tempfile.NamedTemporaryFile("w", prefix="nodecheck-args-", suffix=".json") as out:
        json.dump(forwarded, out)
        out.flush()
        # The binary prints the module's JSON result on stdout and sets the exit status: pass both on.
        try:
            result = subprocess.run([binary, out.name], stdout=subprocess.PIPE)
        except OSError as e:
            fail("%s did not run: %s" % (binary, e))
    sys.stdout.buffer.write(result.stdout)
    sys.stdout.flush()
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
