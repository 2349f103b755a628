package zdsc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// blockingReader is a stdin that never ends: like a terminal nobody types
// into. started is closed at the first Read.
type blockingReader struct {
	started, release chan struct{}
}

func newBlockingReader(t *testing.T) *blockingReader {
	r := &blockingReader{started: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(r.release) })
	return r
}

func (r *blockingReader) Read([]byte) (int, error) {
	select {
	case <-r.started:
	default:
		close(r.started)
	}
	<-r.release
	return 0, io.EOF
}

// TestInterruptWhileReadingStdin cancels the run while zdsc waits for stdin
// that never ends: Main returns, exit code 2, and nothing was sent.
func TestInterruptWhileReadingStdin(t *testing.T) {
	t.Parallel()
	runs := map[string][]string{
		"create --body-file -": {"--demo", "create", "1", "--to", "email:ann@example.com", "--body-file", "-"},
		"import -":             {"--demo", "import", "1", "-"},
	}
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stdin := newBlockingReader(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := make(chan int, 1)
			go func() {
				code <- Main(ctx, args, Env{Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
			}()
			<-stdin.started
			cancel()
			if got := <-code; got != ExitUsage {
				t.Errorf("exit code %d, want %d; stderr %q", got, ExitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted while reading stdin; nothing was sent") || stdout.Len() != 0 {
				t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

// TestInterruptContext runs itself again as a child process that gets two
// interrupts: the first ends the context, the second ends the process as
// an interrupt does without a handler.
func TestInterruptContext(t *testing.T) {
	if os.Getenv("ZDSC_TEST_INTERRUPT_CHILD") == "1" {
		interruptChild()
		return
	}
	if signal.Ignored(os.Interrupt) {
		// Inherited by the child, whose second interrupt would then be
		// ignored again (as in a shell's background job).
		t.Skip("interrupts are ignored in this process")
	}
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestInterruptContext$")
	cmd.Env = append(os.Environ(), "ZDSC_TEST_INTERRUPT_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The child waits on this pipe after the second interrupt; it ends
	// with this process, so that a failing child does not outlive it.
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("the child ended with %v, want an interrupt; output:\n%s", err, out.String())
	}
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("the child ended with %v, want killed by SIGINT; output:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "first interrupt: context ended\n") {
		t.Errorf("the first interrupt did not end the context; output:\n%s", out.String())
	}
}

// interruptChild is the child of TestInterruptContext. After the second
// interrupt it waits for its stdin to end: if that interrupt does not end
// the process, the test times out.
func interruptChild() {
	ctx, stop := InterruptContext(context.Background())
	defer stop()
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		panic(err)
	}
	if err := self.Signal(os.Interrupt); err != nil {
		panic(err)
	}
	<-ctx.Done()
	_, _ = os.Stdout.WriteString("first interrupt: context ended\n")
	if err := self.Signal(os.Interrupt); err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
