package zdsc

import (
	"context"

	zendesk "github.com/sideconv/zendesk"
)

var closeCommand = &command{
	name:    "close",
	args:    "TICKET ID",
	summary: "close a side conversation",
	about: `
Close a side conversation. Closing one that is closed already changes
nothing. With --json, the side conversation as it is now.`,
	examples: `
zdsc --demo close 1 5c000000-0000-4000-8000-000000000002`,
	run: func(ctx context.Context, a *app, args []string) error {
		return runSetState(ctx, a, args, zendesk.StateClosed, "Closed")
	},
}

var reopenCommand = &command{
	name:    "reopen",
	args:    "TICKET ID",
	summary: "reopen a side conversation",
	about: `
Reopen a closed side conversation. With --json, the side conversation as
it is now.`,
	examples: `
zdsc --demo reopen 1 5c000000-0000-4000-8000-000000000001`,
	run: func(ctx context.Context, a *app, args []string) error {
		return runSetState(ctx, a, args, zendesk.StateOpen, "Reopened")
	},
}

func runSetState(ctx context.Context, a *app, args []string, state zendesk.State, done string) error {
	fs := a.newFlagSet(a.cmd.name)
	pos, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	sc, _, err := client.SideConversations.Update(ctx, ticket, pos[1], zendesk.UpdateRequest{State: state})
	if err != nil {
		return err
	}
	if a.g.json {
		return a.printJSON(sc)
	}
	a.sayf("%s side conversation %s: %s (%s)", done, sc.ID, sc.Subject, sc.State)
	return nil
}
