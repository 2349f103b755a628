package zdsc

import (
	"context"
	"os"
	"os/signal"
)

// InterruptContext returns a context that ends at the first interrupt
// (Ctrl-C), which cmd/zdsc runs Main with. After the first interrupt an
// interrupt takes its default action again, so that a second Ctrl-C ends
// the process at once, whatever the run still waits for. stop releases
// the signal and ends the context.
func InterruptContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	go func() {
		select {
		case <-interrupts:
		case <-ctx.Done():
		}
		// Released before the context ends: whoever sees it end knows
		// that the next interrupt ends the process.
		signal.Stop(interrupts)
		cancel()
	}()
	return ctx, cancel
}
