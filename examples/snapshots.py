import os

from sandgate import Sandgate

with Sandgate(os.environ.get("SANDGATE_URL", "http://127.0.0.1:8787"), os.environ.get("SANDGATE_TOKEN")) as sg:
    sb = sg.sandboxes.create(ttl_seconds=600, labels={"team": "docs"})
    sb.exec("mkdir -p app && echo v1 > app/version && echo noise > debug.log")
    saved = sb.snapshot(name="known-good", excludes=["*.log"])  # outlives the sandbox
    sb.exec("rm -rf app && echo oops > broken")  # break the workspace
    sb.restore(saved.id)  # back to the saved tree, atomically
    print(sb.exec("cat app/version; ls").stdout.strip())
    fork = sb.fork(5, labels={"team": "docs"})  # 5 copies of one consistent cut
    for i, copy in enumerate(fork.sandboxes):
        print(copy.exec(f"echo copy {i}: $(cat app/version)").stdout, end="")
    for s in [sb, *fork.sandboxes]:
        s.delete()
    sg.snapshots.delete(saved.id)
