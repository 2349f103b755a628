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

// shellWords splits a command line as a shell would for the README's and
// the help's commands: words separated by spaces, grouped by double or
// single quotes.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote == 0 && (r == '"' || r == '\''):
			quote, inWord = r, true
		case r == quote:
			quote = 0
		case r == ' ' && quote == 0:
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
	if quote != 0 {
		t.Fatalf("unbalanced quotes in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestHelpExamplesRun runs every --demo example of the help texts, as a
// person would type it, and expects it to succeed and print something.
func TestHelpExamplesRun(t *testing.T) {
	t.Parallel()
	texts := []string{topHelp()}
	for _, c := range commands() {
		texts = append(texts, c.helpText())
	}
	examples := 0
	for _, text := range texts {
		_, ex, _ := strings.Cut(text, "\nExamples:\n")
		for _, line := range strings.Split(ex, "\n") {
			line = strings.TrimSpace(line)
			if !strings.Contains(line, "zdsc --demo ") {
				continue
			}
			stdin := ""
			if pipe, cmd, ok := strings.Cut(line, " | zdsc "); ok {
				words := shellWords(t, pipe)
				if len(words) != 2 || words[0] != "echo" {
					t.Fatalf("%s: only echo ... | zdsc is understood", line)
				}
				stdin, line = words[1]+"\n", "zdsc "+cmd
			}
			args := shellWords(t, strings.TrimPrefix(line, "zdsc "))
			for _, a := range args {
				if a == "|" || strings.HasPrefix(a, "<") || strings.HasPrefix(a, ">") {
					t.Fatalf("%s: a --demo example that pipes or redirects", line)
				}
			}
			dir := t.TempDir()
			for i := range args {
				if i > 0 && args[i-1] == "--dir" {
					args[i] = filepath.Join(dir, args[i])
				}
			}
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), args, Env{
				Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
				Getenv: func(string) string { return "" },
			})
			if code != ExitOK || stdout.Len() == 0 {
				t.Errorf("%s: exit code %d, stdout %q, stderr %q", line, code, stdout.String(), stderr.String())
			}
			examples++
		}
	}
	if examples < len(commands()) {
		t.Errorf("ran %d --demo examples, fewer than there are commands", examples)
	}
}
