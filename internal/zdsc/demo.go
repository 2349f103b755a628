package zdsc

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// DemoTicket is the ticket of the demo account: an in-memory zendesktest
// server whose clock stands still at DemoNow, so that every run prints the
// same.
const DemoTicket int64 = 1

// DemoNow is the time of the demo account's clock.
var DemoNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// The demo's side conversations, in the order list prints them.
const (
	DemoEmailConversation = "5c000000-0000-4000-8000-000000000001"
	DemoSlackConversation = "5c000000-0000-4000-8000-000000000002"
	DemoChildConversation = "5c000000-0000-4000-8000-000000000003"
)

// startDemo starts the demo account's server.
func startDemo(ctx context.Context) (*zendesktest.Server, error) {
	srv := zendesktest.NewServer(
		zendesktest.WithTickets(DemoTicket),
		// Zendesk's events carry their ticket: the export needs it.
		zendesktest.WithEventTicketIDAndURL(),
		zendesktest.WithClock(func() time.Time { return DemoNow }),
	)
	if err := SeedDemo(ctx, srv); err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}

// demoFile is an attachment of the demo account.
type demoFile struct{ name, content string }

var (
	demoInvoice = demoFile{"invoice-INV-2041.txt", "" +
		"Invoice INV-2041\n" +
		"Customer: Northwind Traders\n" +
		"2026-11-18  Annual plan, 25 seats   EUR 4,500.00   charged\n" +
		"2026-11-18  Annual plan, 25 seats   EUR 4,500.00   charged again\n"}
	demoReceipt = demoFile{"refund-RF-7731.txt", "" +
		"Refund RF-7731 for invoice INV-2041\n" +
		"Amount: EUR 4,500.00\n" +
		"Issued: 2026-11-20, on the card charged twice\n"}
)

// SeedDemo loads the demo account into srv: ticket DemoTicket with an
// e-mail side conversation (a reply, two attachments, closed), a Slack one
// and a child-ticket one, each with its events. The attachments are
// uploaded through the API, so that they can be downloaded.
func SeedDemo(ctx context.Context, srv *zendesktest.Server) error {
	uploader := srv.Client()
	if uploader == nil {
		return fmt.Errorf("no client for the demo server")
	}
	upload := func(f demoFile) (zendesk.UploadedAttachment, error) {
		up, _, err := uploader.SideConversations.UploadAttachment(ctx, f.name, strings.NewReader(f.content))
		if err != nil {
			return zendesk.UploadedAttachment{}, fmt.Errorf("uploading %s: %w", f.name, err)
		}
		return *up, nil
	}
	invoice, err := upload(demoInvoice)
	if err != nil {
		return err
	}
	receipt, err := upload(demoReceipt)
	if err != nil {
		return err
	}
	attachment := func(conv string, up zendesk.UploadedAttachment) zendesk.Attachment {
		return zendesk.Attachment{
			ID:          up.ID,
			FileName:    up.Name,
			ContentType: up.ContentType,
			ContentURL: srv.URL() + "/api/v2/tickets/" + strconv.FormatInt(DemoTicket, 10) + "/side_conversations/" + conv +
				"/attachments/" + url.PathEscape(up.ID) + "/download/" + url.PathEscape(up.Name),
			Size: up.Size,
		}
	}

	agent := zendesk.Participant{UserID: zendesktest.AgentUserID, Name: zendesktest.AgentName, Email: zendesktest.DefaultEmail}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC) }

	// An e-mail to billing at a partner, answered and closed.
	ann := zendesk.NamedEmail("ann@example.com", "Ann Lee")
	srv.SeedConversation(DemoTicket, zendesk.SideConversation{
		ID:             DemoEmailConversation,
		Subject:        "Invoice INV-2041 was charged twice",
		PreviewText:    "Confirmed: the second charge is refunded (RF-7731).",
		State:          zendesk.StateClosed,
		Participants:   []zendesk.Participant{agent, ann},
		CreatedAt:      at(20, 9, 14),
		UpdatedAt:      at(20, 11, 5),
		MessageAddedAt: at(20, 11, 2),
		StateUpdatedAt: at(20, 11, 5),
	},
		zendesk.Event{Type: zendesk.EventCreate, Via: "api", Actor: agent, CreatedAt: at(20, 9, 14), Message: &zendesk.Message{
			Subject: "Invoice INV-2041 was charged twice",
			Body: "Hi Ann, the customer on this ticket was charged twice for invoice INV-2041. " +
				"Could you refund the second charge? The invoice is attached.",
			From:        agent,
			To:          []zendesk.Participant{ann},
			Attachments: []zendesk.Attachment{attachment(DemoEmailConversation, invoice)},
		}},
		zendesk.Event{Type: zendesk.EventReply, Via: "email", Actor: ann, CreatedAt: at(20, 11, 2), Message: &zendesk.Message{
			Subject:     "Re: Invoice INV-2041 was charged twice",
			Body:        "Confirmed: the second charge is refunded (RF-7731). It shows on the card within 5 days.",
			From:        ann,
			To:          []zendesk.Participant{agent},
			Attachments: []zendesk.Attachment{attachment(DemoEmailConversation, receipt)},
		}},
		zendesk.Event{Type: zendesk.EventUpdate, Via: "api", Actor: agent, CreatedAt: at(20, 11, 5),
			Updates: zendesk.Updates{State: zendesk.StateClosed}},
	)

	// A question in the payments team's Slack channel, answered there.
	slack := zendesk.SlackChannel("T0DEMO01", "C0PAYMENTS")
	priya := zendesk.Participant{Name: "Priya Raman", SlackWorkspaceID: "T0DEMO01", SlackChannelID: "C0PAYMENTS"}
	srv.SeedConversation(DemoTicket, zendesk.SideConversation{
		ID:             DemoSlackConversation,
		Subject:        "Are EU card payments failing?",
		PreviewText:    "Yes: the EU gateway failed from 07:55 to 08:35; retries succeed now.",
		State:          zendesk.StateOpen,
		Participants:   []zendesk.Participant{agent, slack},
		CreatedAt:      at(21, 8, 30),
		UpdatedAt:      at(21, 8, 41),
		MessageAddedAt: at(21, 8, 41),
	},
		zendesk.Event{Type: zendesk.EventCreate, Via: "api", Actor: agent, CreatedAt: at(21, 8, 30), Message: &zendesk.Message{
			Subject: "Are EU card payments failing?",
			Body:    "Customers in the EU see 'card declined' since 08:00. Anything on your side?",
			From:    agent,
			To:      []zendesk.Participant{slack},
		}},
		zendesk.Event{Type: zendesk.EventReply, Via: "slack", Actor: priya, CreatedAt: at(21, 8, 41), Message: &zendesk.Message{
			Body: "Yes: the EU gateway failed from 07:55 to 08:35; retries succeed now.",
			From: priya,
			To:   []zendesk.Participant{agent},
		}},
	)

	// A child ticket for field service (group 360, agent 77).
	field := zendesk.SupportAgent(360, 77)
	marco := zendesk.Participant{UserID: 77, Name: "Marco Rossi", Email: "marco@example.com"}
	srv.SeedConversation(DemoTicket, zendesk.SideConversation{
		ID:             DemoChildConversation,
		Subject:        "Replace the fuser of printer 3",
		PreviewText:    "Booked: a technician comes tomorrow at 09:00.",
		State:          zendesk.StateOpen,
		Participants:   []zendesk.Participant{agent, field},
		ExternalIDs:    map[string]string{"targetTicketId": "10001"},
		CreatedAt:      at(22, 14, 0),
		UpdatedAt:      at(22, 16, 20),
		MessageAddedAt: at(22, 16, 20),
	},
		zendesk.Event{Type: zendesk.EventCreate, Via: "api", Actor: agent, CreatedAt: at(22, 14, 0), Message: &zendesk.Message{
			Subject: "Replace the fuser of printer 3",
			Body:    "Printer 3 on floor 2 smells of burnt toner and jams every page. Please replace the fuser.",
			From:    agent,
			To:      []zendesk.Participant{field},
		}},
		zendesk.Event{Type: zendesk.EventReply, Via: "web", Actor: marco, CreatedAt: at(22, 16, 20), Message: &zendesk.Message{
			Body: "Booked: a technician comes tomorrow at 09:00.",
			From: marco,
			To:   []zendesk.Participant{agent},
		}},
	)
	return nil
}
