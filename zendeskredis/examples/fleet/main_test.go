package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func smallConfig(t *testing.T) config {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Skip("REDIS_URL is not set: start a throwaway Redis (redis-server --port 6390 --save '' --appendonly no --daemonize yes) " +
			"and run REDIS_URL=redis://127.0.0.1:6390/0 go test ./examples/fleet")
	}
	// A budget large enough not to bind: this checks the mechanics, not
	// the pacing, which the full run measures.
	return config{replicas: 3, workers: 2, jobs: 60, twice: 0.5, tickets: 5, createReply: 10000, plan: 100000,
		window: 10 * time.Second, withRedis: true, redisURL: url, seed: 1}
}

func TestFleetWithRedisMakesNoDuplicate(t *testing.T) {
	t.Parallel()
	c := smallConfig(t)
	res, err := run(context.Background(), c)
	require.NoError(t, err)
	assert.Greater(t, res.calls, c.jobs, "some jobs were handed to two replicas")
	assert.Equal(t, res.calls, res.completed)
	assert.Zero(t, res.failures)
	assert.Zero(t, res.duplicates)
	assert.Positive(t, res.messages)
	assert.Positive(t, res.minimum)
}

func TestSameKeysOnEveryReplicaMakeOneConversationEach(t *testing.T) {
	t.Parallel()
	c := smallConfig(t)
	res, err := sameKeys(context.Background(), c, 10)
	require.NoError(t, err)
	assert.Equal(t, 30, res.calls)
	assert.Zero(t, res.failures)
	assert.Equal(t, 10, res.messages)
}
