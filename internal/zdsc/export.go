package zdsc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

var exportCommand = &command{
	name:    "export",
	summary: "export the events of every ticket as JSON Lines",
	about: `
Export the side conversation events of every ticket, from --since on,
oldest first, one JSON object per line on stdout: Zendesk's incremental
export, which needs an admin. On a terminal, stderr shows the progress:
events so far, their rate and the time the export has reached.

To resume an export, pass the created_at of its last line as --since: the
events of that second come again, and their ids tell them apart.`,
	flags: `
--since TIME   where to start (required): 2026-11-20T09:00:00Z, a date such as
               2026-11-20 (UTC), a Unix time such as 1763629200, or a duration
               back from now such as 90m, 36h or 7d`,
	examples: `
zdsc --demo export --since 2026-11-01
zdsc --demo export --since 2026-11-22T15:00:00Z
zdsc export --since 7d > events.jsonl`,
	fieldFlags: [][2]string{{"start", "--since"}},
	run:        runExport,
}

func runExport(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("export")
	since := fs.String("since", "", "")
	if _, err := a.parse(fs, args); err != nil {
		return err
	}
	if !a.g.given["since"] {
		return usagef(a.cmd, "--since is required: where the export starts")
	}
	start, err := parseSince(*since, a.env.Now())
	if err != nil {
		return usagef(a.cmd, "--since %q: %v", *since, err)
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(a.env.Stdout)
	enc := jsonLines(out)
	var bar *progress
	if a.progress() {
		bar = newProgress(a.env.Stderr, a.env.Now)
	}
	for ev, err := range client.SideConversations.IncrementalEvents(ctx, start) {
		if err != nil {
			bar.finish()
			if ferr := out.Flush(); ferr != nil {
				return ferr
			}
			return err
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
		bar.add(ev.CreatedAt)
	}
	bar.finish()
	return out.Flush()
}

// parseSince reads --since.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= 100000 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("not a time: write a time such as 2026-11-20T09:00:00Z, a date such as 2026-11-20, a Unix time, or a duration back from now such as 36h or 7d")
}

// progress is the line export keeps redrawing on a terminal's stderr. A nil
// *progress draws nothing.
type progress struct {
	w           io.Writer
	now         func() time.Time
	start, last time.Time
	count       int
	at          time.Time
}

// progressEvery is how often the line is redrawn at most.
const progressEvery = 200 * time.Millisecond

func newProgress(w io.Writer, now func() time.Time) *progress {
	t := now()
	p := &progress{w: w, now: now, start: t, last: t}
	p.draw(t, "")
	return p
}

func (p *progress) add(at time.Time) {
	if p == nil {
		return
	}
	p.count++
	p.at = at
	if t := p.now(); t.Sub(p.last) >= progressEvery {
		p.draw(t, "")
	}
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	end := "\n"
	if !p.at.IsZero() {
		end = "; resume with --since " + p.at.UTC().Format(time.RFC3339) + "\n"
	}
	p.draw(p.now(), end)
	p.w = io.Discard
}

func (p *progress) draw(t time.Time, end string) {
	p.last = t
	fmt.Fprintf(p.w, "\r\x1b[K%s%s", p.text(t), end)
}

// text is the progress line: count, rate and the time reached.
func (p *progress) text(t time.Time) string {
	noun := "events"
	if p.count == 1 {
		noun = "event"
	}
	s := fmt.Sprintf("exported %d %s", p.count, noun)
	if secs := t.Sub(p.start).Seconds(); secs > 0 {
		s += fmt.Sprintf(", %.0f/s", float64(p.count)/secs)
	}
	if !p.at.IsZero() {
		s += ", at " + timeText(p.at)
	}
	return s
}
