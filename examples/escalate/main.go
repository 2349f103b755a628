// Escalate shows the automation case: when a ticket needs another team, open
// a child ticket for their support group and a Slack side conversation in
// their channel; when the ticket is solved, close every side conversation
// that is still open.
//
//	go run ./examples/escalate
//
// Without ZENDESK_* variables it runs against the in-memory zendesktest
// server. Against Zendesk it also needs ZENDESK_GROUP_ID,
// ZENDESK_SLACK_WORKSPACE and ZENDESK_SLACK_CHANNEL.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/examples/internal/setup"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "escalate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	target, err := setup.FromEnv(out, zendesk.WithUserAgent("sideconv-escalate"))
	if err != nil {
		return err
	}
	defer target.Close()

	group, err := strconv.ParseInt(setup.Getenv("ZENDESK_GROUP_ID", "360001"), 10, 64)
	if err != nil {
		return fmt.Errorf("ZENDESK_GROUP_ID: %w", err)
	}
	e := escalator{
		sc:        target.Client.SideConversations,
		group:     group,
		workspace: setup.Getenv("ZENDESK_SLACK_WORKSPACE", "T123ABC"),
		channel:   setup.Getenv("ZENDESK_SLACK_CHANNEL", "C456DEF"),
		out:       out,
	}
	if err := e.escalate(ctx, target.TicketID, "Customer cannot log in since the SSO change"); err != nil {
		return err
	}
	// ... later, a webhook says the ticket was solved:
	return e.ticketSolved(ctx, target.TicketID)
}

type escalator struct {
	sc                 *zendesk.SideConversationsService
	group              int64
	workspace, channel string
	out                io.Writer
}

// escalate opens the child ticket and the Slack thread. The idempotency
// keys make a rerun (the job retried after a crash) find what the first run
// made instead of opening everything twice.
func (e escalator) escalate(ctx context.Context, ticket int64, summary string) error {
	child, _, err := e.sc.Create(ctx, ticket, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Escalation: " + summary,
			Body:    "Please investigate; the customer ticket is linked.",
			To:      []zendesk.Participant{zendesk.SupportGroup(e.group)},
		},
		IdempotencyKey: fmt.Sprintf("escalate-%d-child", ticket),
	})
	if err != nil {
		return fmt.Errorf("child ticket: %w", err)
	}
	childID, _ := child.SideConversation.ChildTicketID()
	fmt.Fprintf(e.out, "opened child ticket #%d for group %d (side conversation %s)\n", childID, e.group, child.SideConversation.ID)

	slack, _, err := e.sc.Create(ctx, ticket, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: summary,
			Body:    "Heads-up: escalated to the identity team.",
			To:      []zendesk.Participant{zendesk.SlackChannel(e.workspace, e.channel)},
		},
		IdempotencyKey: fmt.Sprintf("escalate-%d-slack", ticket),
	})
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	fmt.Fprintf(e.out, "posted to Slack channel %s (side conversation %s)\n", e.channel, slack.SideConversation.ID)
	return nil
}

// ticketSolved closes every side conversation of the ticket that is open.
func (e escalator) ticketSolved(ctx context.Context, ticket int64) error {
	closed := 0
	for conv, err := range e.sc.ListIter(ctx, ticket, nil) {
		if err != nil {
			return err
		}
		if conv.State != zendesk.StateOpen {
			continue
		}
		if _, _, err := e.sc.Update(ctx, ticket, conv.ID, zendesk.UpdateRequest{State: zendesk.StateClosed}); err != nil {
			return fmt.Errorf("closing %s: %w", conv.ID, err)
		}
		closed++
		fmt.Fprintf(e.out, "ticket solved: closed %s (%q)\n", conv.ID, conv.Subject)
	}
	fmt.Fprintf(e.out, "closed %d side conversations\n", closed)
	return nil
}
