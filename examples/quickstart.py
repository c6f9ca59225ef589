import os

from sandgate import Sandgate

with Sandgate(os.environ.get("SANDGATE_URL", "http://127.0.0.1:8787"), os.environ.get("SANDGATE_TOKEN")) as sg:
    sb = sg.sandboxes.create(ttl_seconds=600, labels={"team": "docs"})
    sb.files.write("hello.py", "import os; print('hello from', os.getcwd())")
    result = sb.exec(["python3", "hello.py"])
    print(result.exit_code, result.stdout.strip())
    for event in sb.exec_stream("for i in 1 2 3; do echo tick $i; done"):
        if event.type == "stdout":
            print(event.data, end="")
    sb.delete()
