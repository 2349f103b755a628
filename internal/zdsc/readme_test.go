package zdsc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeTranscript runs the commands of the README's "Command line"
// transcript as a terminal without colour would, and compares what they
// print with what the README shows.
func TestReadmeTranscript(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Command line\n")
	if !ok {
		t.Fatal("the README has no Command line section")
	}
	_, block, ok := strings.Cut(section, "```console\n")
	if !ok {
		t.Fatal("the Command line section has no console block")
	}
	block, _, _ = strings.Cut(block, "```")

	dir := t.TempDir()
	commands := 0
	for _, step := range strings.Split(block, "\n$ ") {
		step = strings.TrimPrefix(strings.TrimSpace(step), "$ ")
		line, want, _ := strings.Cut(step, "\n")
		line, echoExit := strings.CutSuffix(line, `; echo "exit $?"`)
		args := shellWords(t, strings.TrimPrefix(line, "zdsc "))
		for i, a := range args {
			if i > 0 && args[i-1] == "--dir" {
				args[i] = filepath.Join(dir, a)
			}
		}
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), args, Env{
			Stdout: &stdout, Stderr: &stderr,
			StdoutTerminal: true, StderrTerminal: true,
			Getenv: func(k string) string {
				if k == "NO_COLOR" {
					return "1"
				}
				return ""
			},
		})
		got := stderr.String() + stdout.String()
		got = strings.ReplaceAll(got, dir+string(filepath.Separator), "")
		if echoExit {
			got += fmt.Sprintf("exit %d\n", code)
		} else if code != ExitOK {
			t.Errorf("%s: exit code %d", line, code)
		}
		if strings.TrimSpace(got) != strings.TrimSpace(want) {
			t.Errorf("$ %s\nprints\n%s\nthe README shows\n%s", line, got, want)
		}
		commands++
	}
	if commands < 4 {
		t.Errorf("the transcript has %d commands, want at least 4", commands)
	}
}

// shellWords splits a command line as a shell would for the README's
// commands: words separated by spaces, double quotes grouping.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
