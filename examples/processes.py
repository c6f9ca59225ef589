import os

from sandgate import Sandgate

with Sandgate(os.environ.get("SANDGATE_URL", "http://127.0.0.1:8787"), os.environ.get("SANDGATE_TOKEN")) as sg:
    sb = sg.sandboxes.create(ttl_seconds=600, labels={"team": "docs"})
    job = sb.start_process("for i in 1 2 3; do echo step $i; sleep 0.2; done")
    for event in job.follow():  # resumes from the last offset if the connection drops
        if event.type == "stdout":
            print(event.data, end="")
        elif event.type == "exit":
            print("exit", event.exit_code)
    sb.files.write("site/index.html", "<h1>hi</h1>")
    web = sb.start_process(["python3", "-m", "http.server", "8080"], cwd="site")
    web.wait_for_port(8080)
    page = sb.fetch_port(8080, "/")  # through the port proxy, with the client's token
    print(page.status_code, page.text)
    link = sb.port_link(8080, ttl_seconds=600)  # opens in a browser without a token
    print(link.url.startswith(sb.port_url(8080)))
    sb.delete()
