package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func noEnv(string) string { return "" }

func TestRunFake(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "cassettes", "ticket.yaml")
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{
		"-fake", "-ticket", "7", "-per-page", "2", "-since", "2025-01-01", "-out", out,
		"-replace", "Sam Billing=Someone Else", "-scrub-host", "partner.test",
	}, noEnv, &stdout, &stderr)
	require.NoError(t, err, "stderr: %s", stderr.String())
	assert.Empty(t, stderr.String())

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 1+1+3*2+1+1, stdout.String())
	assert.Regexp(t, `^Recording from the in-memory zendesktest server at http://127\.0\.0\.1:\d+, ticket 7$`, lines[0])
	assert.Equal(t, "List ticket 7 (include=events): 3 side conversations, 6 events, 2 requests", lines[1])
	id := `5c000000-0000-4000-8000-00000000000\d`
	assert.Regexp(t, `^Show `+id+` \(include=events\): open, 3 events, 2 participants, 1 request$`, lines[2])
	assert.Regexp(t, `^ListEvents `+id+`: 3 events \(1 create, 2 reply\), 2 requests$`, lines[3])
	assert.Regexp(t, `^Show `+id+` \(include=events\): closed, 2 events, 2 participants, 1 request$`, lines[4])
	assert.Regexp(t, `^ListEvents `+id+`: 2 events \(1 create, 1 update\), 1 request$`, lines[5])
	assert.Regexp(t, `^Show `+id+` \(include=events\): open, 1 events, 2 participants, 1 request$`, lines[6])
	assert.Regexp(t, `^ListEvents `+id+`: 1 events \(1 create\), 1 request$`, lines[7])
	assert.Equal(t, "IncrementalEvents since 2025-01-01T00:00:00Z (start_time=1735689600): 6 events, 2 requests", lines[8])
	assert.Equal(t, "Saved 11 interactions to "+out+"; review it before committing", lines[9])

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	saved := string(data)
	for _, leak := range []string{fakeToken, fakeEmail, "sam.billing", "Sam Billing", "partner.test", "127.0.0.1", "Authorization", zendesktest.AgentName} {
		assert.NotContains(t, saved, leak)
	}
	assert.True(t, strings.HasPrefix(saved, "---\nversion: 2\ninteractions:\n"), "a go-vcr cassette")
	assert.Contains(t, saved, "https://example.zendesk.com/api/v2/tickets/7/side_conversations?include=events&page=2&per_page=2")
	assert.Contains(t, saved, `"name": "Person 1"`)
	assert.Regexp(t, regexp.MustCompile(`"email": "user\d@example\.com"`), saved)

	// The cassette replays: the SDK reads the same things without a server.
	rec, err := recorder.New(strings.TrimSuffix(out, ".yaml"), zendesktest.VCR(), recorder.WithMode(recorder.ModeReplayOnly))
	require.NoError(t, err)
	c, err := zendesk.NewClient("example", zendesk.APIToken("anyone@example.com", "x"),
		zendesk.WithHTTPClient(&http.Client{Transport: rec}), zendesk.WithoutRetries())
	require.NoError(t, err)
	ctx := t.Context()
	var states []zendesk.State
	for sc, err := range c.SideConversations.ListIter(ctx, 7, &zendesk.ListOptions{PerPage: 2, IncludeEvents: true}) {
		require.NoError(t, err)
		states = append(states, sc.State)
		shown, _, err := c.SideConversations.Show(ctx, 7, sc.ID, &zendesk.ShowOptions{IncludeEvents: true})
		require.NoError(t, err)
		assert.Equal(t, sc.Subject, shown.Subject)
		n := 0
		for _, err := range c.SideConversations.ListEventsIter(ctx, 7, sc.ID, &zendesk.ListOptions{PerPage: 2}) {
			require.NoError(t, err)
			n++
		}
		assert.Len(t, shown.Events, n)
	}
	assert.Equal(t, []zendesk.State{zendesk.StateOpen, zendesk.StateClosed, zendesk.StateOpen}, states)
	n := 0
	for _, err := range c.SideConversations.IncrementalEvents(ctx, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 6, n)
}

func TestRunFakeDefaults(t *testing.T) {
	t.Parallel()
	// The default -out is relative to the working directory; give it a
	// name in a temporary directory instead, and check the rest.
	out := filepath.Join(t.TempDir(), "fake.yaml")
	var stdout bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-fake", "-out", out}, noEnv, &stdout, &bytes.Buffer{}))
	assert.Contains(t, stdout.String(), ", ticket 1\n")
	assert.Contains(t, stdout.String(), "List ticket 1 (include=events): 3 side conversations, 6 events, 1 request\n")
	assert.NotContains(t, stdout.String(), "IncrementalEvents", "only with -since")
	cas, err := cassette.Load(strings.TrimSuffix(out, ".yaml"))
	require.NoError(t, err)
	assert.Len(t, cas.Interactions, 7, "a list, and a show and the events of each of 3 conversations")

	opts, err := parseFlags([]string{"-ticket", "12"}, &bytes.Buffer{}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("testdata", "cassettes", "ticket-12.yaml"), opts.out)
}

func TestRetriedAnswersAreLeftOut(t *testing.T) {
	t.Parallel()
	var r retriedAnswers
	codes := []int{http.StatusOK, http.StatusTooManyRequests, http.StatusNotFound, http.StatusServiceUnavailable, http.StatusCreated}
	var discarded []bool
	for _, code := range codes {
		i := &cassette.Interaction{Response: cassette.Response{Code: code}}
		require.NoError(t, r.leaveOut(i))
		discarded = append(discarded, i.DiscardOnSave)
	}
	assert.Equal(t, []bool{false, true, false, true, false}, discarded)
	assert.Equal(t, retriedAnswers{kept: 3, left: 2}, r)
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no ticket":       {args: []string{"-out", filepath.Join(dir, "a.yaml")}, want: "-ticket: a positive ticket id is required"},
		"no credentials":  {args: []string{"-ticket", "5", "-out", filepath.Join(dir, "b.yaml")}, want: "set ZENDESK_SUBDOMAIN"},
		"out not yaml":    {args: []string{"-fake", "-out", filepath.Join(dir, "c.json")}, want: `c.json" is not the name of a .yaml file`},
		"out only yaml":   {args: []string{"-fake", "-out", ".yaml"}, want: `".yaml" is not the name of a .yaml file`},
		"email only":      {args: []string{"-ticket", "5"}, env: map[string]string{"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.test"}, want: "set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN"},
		"bad subdomain":   {args: []string{"-ticket", "5"}, env: map[string]string{"ZENDESK_SUBDOMAIN": "Acme Corp", "ZENDESK_OAUTH_TOKEN": "t"}, want: "subdomain"},
		"bad since":       {args: []string{"-fake", "-since", "last tuesday"}, want: `-since: "last tuesday" is not`},
		"bad per page":    {args: []string{"-fake", "-per-page", "101"}, want: "-per-page: must be between 1 and 100"},
		"bad max events":  {args: []string{"-fake", "-max-events", "0"}, want: "-max-events: must be positive"},
		"bad replace":     {args: []string{"-fake", "-replace", "novalue"}, want: "want OLD=NEW"},
		"extra arguments": {args: []string{"-fake", "extra"}, want: `unexpected arguments ["extra"]`},
		"unknown flag":    {args: []string{"-nope"}, want: "flag provided but not defined: -nope"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tc.env[k] }
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, getenv, &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, stdout.String(), "nothing was called")
		})
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 10, 12, 30, 15, 500, time.UTC)
	for in, want := range map[string]time.Time{
		"2025-06-01T08:00:00+02:00": time.Date(2025, 6, 1, 6, 0, 0, 0, time.UTC),
		"2025-06-01":                time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"1735689600":                time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		"72h":                       time.Date(2025, 6, 7, 12, 30, 15, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), "%s: got %s, want %s", in, got, want)
	}
	for _, bad := range []string{"", "yesterday", "-5h", "-1"} {
		_, err := parseSince(bad, now)
		assert.Error(t, err, bad)
	}
}
