module github.com/sideconv/zendesk/zendeskredis

go 1.26.0

// Development builds against the root module of this repository; users get
// the release required below (v0.2.0 is the first with zendesk.Coordinator).
replace github.com/sideconv/zendesk => ../

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sideconv/zendesk v0.2.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/jarcoal/httpmock v1.4.2 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	gopkg.in/dnaeon/go-vcr.v4 v4.0.8 // indirect
)
