// Quickstart walks the whole life of a side conversation: upload a file,
// open an e-mail side conversation with it, reply, list with events, close
// it, import a historical thread, page through events, and see a mistake
// caught before anything is sent.
//
//	go run ./examples/quickstart
//
// Without ZENDESK_* variables it runs against the in-memory zendesktest
// server. To run it against Zendesk, set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL
// and ZENDESK_API_TOKEN (or ZENDESK_OAUTH_TOKEN), ZENDESK_TICKET_ID, and
// ZENDESK_RECIPIENT (an address you own: it receives real e-mail).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/examples/internal/setup"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	target, err := setup.FromEnv(out, zendesk.WithUserAgent("sideconv-quickstart"))
	if err != nil {
		return err
	}
	defer target.Close()
	sc := target.Client.SideConversations
	ticket := target.TicketID
	recipient := setup.Getenv("ZENDESK_RECIPIENT", "someone@example.com")
	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(out, "%d. "+format+"\n", append([]any{step}, args...)...)
	}

	// 1. Upload an attachment for the first message.
	log := strings.NewReader("12:01 printer 3 reports: fuser at 310°C\n12:02 smoke detected\n")
	upload, _, err := sc.UploadAttachment(ctx, "printer-log.txt", log)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	say("uploaded %s (%s, %d bytes) as %s", upload.Name, upload.ContentType, upload.Size, upload.ID)

	// 2. Open an e-mail side conversation with it. The idempotency key makes
	// a rerun of this step return the first conversation instead of
	// e-mailing the recipient twice.
	created, resp, err := sc.Create(ctx, ticket, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject:       "Printer 3 is on fire",
			Body:          "Can you send a technician today? The log is attached.",
			To:            []zendesk.Participant{zendesk.NamedEmail(recipient, "Facilities")},
			AttachmentIDs: []string{upload.ID},
		},
		ExternalIDs:    map[string]string{"facilities_case": "F-1042"},
		IdempotencyKey: fmt.Sprintf("quickstart-%d-%s", ticket, time.Now().UTC().Format("2006-01-02T15")),
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	conv := created.SideConversation
	say("created side conversation %s: %q, state %s, %d participants (request %s)",
		conv.ID, conv.Subject, conv.State, len(conv.Participants), resp.RequestID)

	// 3. Reply on it. Zendesk answers with the conversation alone; the
	// reply's event shows up among the conversation's events (steps 4 and 7).
	replied, _, err := sc.Reply(ctx, ticket, conv.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "Update: the fire is out, the printer is not.",
		To:   []zendesk.Participant{zendesk.Email(recipient)},
	}})
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	say("replied to %s: last message at %s, %q", replied.SideConversation.ID,
		replied.SideConversation.MessageAddedAt.Format(time.RFC3339), replied.SideConversation.PreviewText)

	// 4. List the ticket's side conversations with their events.
	convs, _, err := sc.List(ctx, ticket, &zendesk.ListOptions{IncludeEvents: true})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, c := range convs {
		say("listed %s: %q, state %s, %d events", c.ID, c.Subject, c.State, len(c.Events))
	}

	// 5. Close it.
	closed, _, err := sc.Update(ctx, ticket, conv.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	say("closed %s: state %s since %s", closed.ID, closed.State, closed.StateUpdatedAt.Format(time.RFC3339))

	// 6. Import a thread that happened in another tool.
	when := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	imported, _, err := sc.Import(ctx, ticket, zendesk.ImportRequest{
		SideConversation: zendesk.ImportedSideConversation{Subject: "Toner order (from the old helpdesk)", State: zendesk.StateClosed},
		Events: []zendesk.ImportEvent{
			{CreatedAt: when, Message: zendesk.Message{
				Body: "Please order two black toner cartridges.",
				From: zendesk.Email("someone-else@example.com"), To: []zendesk.Participant{zendesk.Email("someone@example.com")},
			}},
			{CreatedAt: when.Add(26 * time.Hour), Message: zendesk.Message{
				Body: "Ordered, arriving Thursday.",
				From: zendesk.Email("someone@example.com"), To: []zendesk.Participant{zendesk.Email("someone-else@example.com")},
			}},
		},
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	say("imported %s: %q, created %s, state %s", imported.SideConversation.ID, imported.SideConversation.Subject,
		imported.SideConversation.CreatedAt.Format(time.RFC3339), imported.SideConversation.State)

	// 7. Page through the first conversation's events, two at a time.
	n := 0
	for ev, err := range sc.ListEventsIter(ctx, ticket, conv.ID, &zendesk.ListOptions{PerPage: 2}) {
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		n++
		detail := string(ev.Updates.State)
		if ev.Message != nil {
			detail = fmt.Sprintf("%q, %d attachments", ev.Message.Body, len(ev.Message.Attachments))
		}
		say("event %d of %s: %s via %s (%s)", n, conv.ID, ev.Type, ev.Via, detail)
	}

	// 8. A mistake the client refuses before anything is sent: one message
	// cannot go to a Slack channel and an e-mail address at once.
	_, _, err = sc.Create(ctx, ticket, zendesk.CreateRequest{Message: zendesk.Message{
		Body: "Who is on call?",
		To:   []zendesk.Participant{zendesk.SlackChannel("T123ABC", "C456DEF"), zendesk.Email(recipient)},
	}})
	var invalid *zendesk.ValidationError
	if !errors.As(err, &invalid) || !errors.Is(err, zendesk.ErrMixedParticipants) {
		return fmt.Errorf("expected a validation error, got %w", err)
	}
	say("refused before sending: field %s: %s", invalid.Field, invalid.Reason)

	if target.Fake != nil {
		say("the fake server saw %d requests and sent %d messages", len(target.Fake.Requests()), len(target.Fake.SentMessages()))
	}
	return nil
}
