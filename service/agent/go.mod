module github.com/sandgate/sandgate/service/agent

go 1.25

require (
	github.com/elastic/go-seccomp-bpf v1.6.0
	golang.org/x/sys v0.33.0
)

require golang.org/x/net v0.41.0 // indirect
