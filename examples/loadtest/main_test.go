package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scaled-down run: every call completes once, and each goroutine meets at
// most one 429 per window boundary, because the pause Zendesk announces
// holds every goroutine of the client. Elapsed time is reported, not
// asserted: the machines are shared.
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
		// Window boundaries the run crossed (a slow machine crosses more).
		boundaries := int(res.elapsed/cfg.window) + 1
		assert.LessOrEqual(t, res.rateLimited, cfg.workers*boundaries)
		var out bytes.Buffer
		report(&out, cfg, res)
		assert.Contains(t, out.String(), "duplicates:   0")
		t.Log(out.String())
	}
}
