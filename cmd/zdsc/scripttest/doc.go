// Package scripttest tests the zdsc command the way a person types it: the
// scripts in testdata run zdsc against its demo account and against
// zendesktest servers, and check the output, the exit codes and what
// reached the server.
//
// It is a module of its own so that the library's go.mod does not gain
// github.com/rogpeppe/go-internal.
//
//	go test ./...           # run the scripts
//	go test ./... -update   # rewrite their expected output after a change
package scripttest
