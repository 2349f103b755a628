module github.com/sideconv/zendesk/cmd/zdsc/scripttest

go 1.26.0

require github.com/sideconv/zendesk v0.0.0

require (
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	gopkg.in/dnaeon/go-vcr.v4 v4.0.8 // indirect
)

require (
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/jarcoal/httpmock v1.4.2 // indirect
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sys v0.26.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)

replace github.com/sideconv/zendesk => ../../..
