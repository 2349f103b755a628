package zendesktest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func Example() {
	srv := zendesktest.NewServer(
		zendesktest.WithTickets(42),
		zendesktest.WithClock(func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }),
	)
	defer srv.Close()
	client := srv.Client(zendesk.WithoutRetries())
	ctx := context.Background()

	res, _, err := client.SideConversations.Create(ctx, 42, zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Invoice 1042",
			Body:    "Could you check this invoice?",
			To:      []zendesk.Participant{zendesk.Email("billing@example.com")},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := res.SideConversation
	fmt.Println(sc.ID, sc.State, sc.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Println(res.Event.Message.HTMLBody)

	if _, _, err := client.SideConversations.Update(ctx, 42, sc.ID, zendesk.UpdateRequest{State: zendesk.StateClosed}); err != nil {
		fmt.Println(err)
		return
	}

	// What the code under test did, as the server saw it.
	sent := srv.SentMessages()
	fmt.Println(len(sent), "message sent to", sent[0].Message.To[0].Email)
	for _, sc := range srv.SideConversations(42) {
		fmt.Println(sc.Subject, sc.State, len(sc.Events), "events")
	}
	// Output:
	// 5c000000-0000-4000-8000-000000000001 open 2025-06-01T12:00:00Z
	// <div class="zd-comment"><p>Could you check this invoice?</p></div>
	// 1 message sent to billing@example.com
	// Invoice 1042 closed 2 events
}

// A reply whose answer is lost on the way back: the client cannot know
// whether it went out, and refuses to send it again; the server shows that
// it did go out.
func ExampleServer_InjectFault() {
	srv := zendesktest.NewServer()
	defer srv.Close()
	client := srv.Client(zendesk.WithoutRetries())
	ctx := context.Background()

	srv.InjectFault(zendesktest.Fault{
		Kind:   zendesktest.FaultDropAfterProcessing,
		Method: "POST",
		Path:   "/api/v2/tickets/*/side_conversations",
	})
	_, _, err := client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{
		Message: zendesk.Message{Body: "Hello", To: []zendesk.Participant{zendesk.Email("someone@example.com")}},
	})
	fmt.Println("may have been sent:", errors.Is(err, zendesk.ErrMaybeSent))
	fmt.Println("was sent:", len(srv.SentMessages()))
	// Output:
	// may have been sent: true
	// was sent: 1
}
