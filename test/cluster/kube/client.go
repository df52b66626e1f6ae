/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Client speaks the Kubernetes REST API with JSON and the published API
// types: the few calls the suite makes, without client-go.
type Client struct {
	server, token string
	http          *http.Client
}

// StatusError is an API error answer.
type StatusError struct {
	Code   int
	Status metav1.Status
}

// Error gives the status code and the API server's own message, which says
// what it refused and why.
func (e *StatusError) Error() string {
	return fmt.Sprintf("API server answered %d: %s", e.Code, e.Status.Message)
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	se, ok := err.(*StatusError)
	return ok && se.Code == http.StatusNotFound
}

func (cp *ControlPlane) httpClient() (*http.Client, error) {
	pem, err := os.ReadFile(cp.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", cp.CA)
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

// Do sends in (JSON) to path and decodes the answer into out; either may
// be nil.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		se := &StatusError{Code: resp.StatusCode}
		_ = json.Unmarshal(b, &se.Status)
		return se
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Get decodes the object at path into out (nil: only check it exists).
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Create posts obj to the collection at path.
func (c *Client) Create(ctx context.Context, path string, obj any) error {
	return c.Do(ctx, http.MethodPost, path, obj, nil)
}

// Update puts obj at path.
func (c *Client) Update(ctx context.Context, path string, obj any) error {
	return c.Do(ctx, http.MethodPut, path, obj, nil)
}

// Delete deletes the object at path; one already gone is no error.
func (c *Client) Delete(ctx context.Context, path string) error {
	err := c.Do(ctx, http.MethodDelete, path, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// CreatePod creates pod in its namespace.
func (c *Client) CreatePod(ctx context.Context, pod *corev1.Pod) error {
	return c.Create(ctx, PodsPath(pod.Namespace), pod)
}

// Pod returns the pod namespace/name.
func (c *Client) Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	var pod corev1.Pod
	return &pod, c.Get(ctx, PodsPath(namespace)+"/"+name, &pod)
}

// Pods returns the pods of every namespace bound to node.
func (c *Client) Pods(ctx context.Context, node string) ([]corev1.Pod, error) {
	var list corev1.PodList
	err := c.Get(ctx, "/api/v1/pods?fieldSelector="+url.QueryEscape("spec.nodeName="+node), &list)
	return list.Items, err
}

// WaitPod polls the pod until done says it is finished with it, and returns
// the pod done accepted; after timeout it returns the last pod seen and an
// error.
func (c *Client) WaitPod(ctx context.Context, namespace, name string, timeout time.Duration, done func(*corev1.Pod) bool) (*corev1.Pod, error) {
	deadline := time.Now().Add(timeout)
	for {
		pod, err := c.Pod(ctx, namespace, name)
		if err == nil && done(pod) {
			return pod, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return nil, err
			}
			return pod, fmt.Errorf("pod %s/%s: condition not reached after %s (phase %s)", namespace, name, timeout, pod.Status.Phase)
		}
		select {
		case <-ctx.Done():
			return pod, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PodEvents returns the messages of the events about the pod, oldest
// first, each prefixed with its reason ("Failed: ...").
func (c *Client) PodEvents(ctx context.Context, namespace, name string) ([]string, error) {
	list, err := c.PodEventList(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out, nil
}

// PodEventList returns the events about the pod (core/v1, as the kubelet
// records them and kubectl describe shows them), oldest first.
func (c *Client) PodEventList(ctx context.Context, namespace, name string) ([]corev1.Event, error) {
	sel := url.QueryEscape("involvedObject.kind=Pod,involvedObject.name=" + name)
	var list corev1.EventList
	if err := c.Get(ctx, "/api/v1/namespaces/"+namespace+"/events?fieldSelector="+sel, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// CreateManifest creates each object of a multi-document YAML manifest in
// the namespace it names, by kind: the kinds the suite applies.
func (c *Client) CreateManifest(ctx context.Context, manifest []byte) error {
	for _, doc := range SplitYAML(manifest) {
		var meta struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return err
		}
		path, err := collectionPath(meta.APIVersion, meta.Kind, meta.Namespace)
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return err
		}
		if err := c.Create(ctx, path, obj); err != nil {
			return fmt.Errorf("create %s %s/%s: %w", meta.Kind, meta.Namespace, meta.Name, err)
		}
	}
	return nil
}

// SplitYAML returns the non-empty documents of a multi-document YAML file.
func SplitYAML(manifest []byte) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split("\n"+string(manifest), "\n---") {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func collectionPath(apiVersion, kind, namespace string) (string, error) {
	if namespace == "" {
		namespace = "default"
	}
	resources := map[string]string{
		"v1/ServiceAccount": "serviceaccounts",
		"v1/Secret":         "secrets",
		"v1/Pod":            "pods",
		"apps/v1/DaemonSet": "daemonsets",
	}
	r, ok := resources[apiVersion+"/"+kind]
	if !ok {
		return "", fmt.Errorf("kind %s %s is not one the suite creates", apiVersion, kind)
	}
	prefix := "/api/v1"
	if apiVersion != "v1" {
		prefix = "/apis/" + apiVersion
	}
	return prefix + "/namespaces/" + namespace + "/" + r, nil
}

// PodsPath is the pods collection of namespace.
func PodsPath(namespace string) string { return "/api/v1/namespaces/" + namespace + "/pods" }

// SecretsPath is the secrets collection of namespace.
func SecretsPath(namespace string) string { return "/api/v1/namespaces/" + namespace + "/secrets" }
