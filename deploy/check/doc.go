// Package check holds the tests that render the Helm chart in
// deploy/helm/portalbot and validate it, and deploy/kubernetes, against
// Kubernetes' own types, its OpenAPI schema and the Pod Security admission
// library. It is a module of its own so that Helm's and client-go's
// dependencies stay out of portalbot's go.mod; .ci/run runs it.
package check
