// Command zdsc works with the side conversations of Zendesk tickets from a
// shell: list, show, create, reply, close, import and export them.
//
//	go install github.com/sideconv/zendesk/cmd/zdsc@latest
//	zdsc --demo list 1
//
// Run zdsc --help for the commands, the configuration and the exit codes.
package main

import (
	"context"
	"os"

	"github.com/sideconv/zendesk/internal/zdsc"
)

func main() {
	ctx, stop := zdsc.InterruptContext(context.Background())
	code := zdsc.Main(ctx, os.Args[1:], zdsc.Env{
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		StdoutTerminal: zdsc.IsTerminal(os.Stdout),
		StderrTerminal: zdsc.IsTerminal(os.Stderr),
		Getenv:         os.Getenv,
	})
	stop()
	os.Exit(code)
}
