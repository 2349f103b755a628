package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scaled-down run: every call completes exactly once, whether the client
// paces itself or not. The run uses the real clock (the server's windows
// and the client's pauses), so how many 429 answers it meets and how long
// it takes depend on the machine: they are reported, never asserted.
func TestLoadCompletesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	for _, pace := range []bool{true, false} {
		cfg := config{calls: 60, workers: 4, budget: 30, window: time.Second, pace: pace}
		res, err := run(context.Background(), cfg)
		require.NoError(t, err)
		assert.Equal(t, cfg.calls, res.completed, "pace=%v", pace)
		assert.Equal(t, cfg.calls, res.onServer)
		assert.Zero(t, res.failures)
		assert.Zero(t, res.duplicates)
		var out bytes.Buffer
		report(&out, cfg, res)
		assert.Contains(t, out.String(), "duplicates:   0")
		t.Log(out.String())
	}
}
