package check

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// The validator does offline what kubeconform does with downloaded JSON
// schemas, from what client-go ships: every document is decoded strictly
// into its Kubernetes type (unknown or duplicate fields and wrong types
// fail) and checked against the OpenAPI schema of Kubernetes' built-in
// types that client-go embeds for server-side apply. Pods then go through
// the Pod Security admission library's "restricted" checks, the code the
// API server's admission plugin runs, and a few rules of the API server's
// own validation that a schema cannot express.

var (
	strictCodecs  = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)
	typeConverter = applyconfigurations.NewTypeConverter(scheme.Scheme)
	podSecurity   = mustEvaluator()
)

func mustEvaluator() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return e
}

// validate decodes every YAML document of manifests and returns the typed
// objects and every problem found, each naming its document (by its Helm
// "# Source:" line when it has one) and object.
func validate(manifests []byte) ([]runtime.Object, []error) {
	var objs []runtime.Object
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifests)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return objs, append(errs, fmt.Errorf("doc %d: %w", i, err))
		}
		where := fmt.Sprintf("doc %d", i)
		if src := sourceLine(doc); src != "" {
			where += " (" + src + ")"
		}
		obj, docErrs := validateDoc(doc)
		for _, e := range docErrs {
			errs = append(errs, fmt.Errorf("%s: %w", where, e))
		}
		if obj != nil {
			objs = append(objs, obj)
		}
	}
	return objs, errs
}

// sourceLine returns the file Helm names in a "# Source: chart/templates/x.yaml" line.
func sourceLine(doc []byte) string {
	for l := range strings.Lines(string(doc)) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(l), "# Source: "); ok {
			return s
		}
	}
	return ""
}

func validateDoc(doc []byte) (runtime.Object, []error) {
	// YAMLToJSONStrict refuses duplicate keys, which YAML allows and
	// which would silently keep the last one.
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, []error{err}
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil // only comments
	}
	u := &unstructured.Unstructured{}
	if _, _, err := unstructured.UnstructuredJSONScheme.Decode(js, nil, u); err != nil {
		return nil, []error{err}
	}
	name := u.GetKind() + "/" + u.GetName()
	if u.GetName() == "" {
		return nil, []error{fmt.Errorf("%s: metadata.name is required", u.GetKind())}
	}
	var errs []error
	// Strict decoding: unknown and duplicate fields, wrong types.
	obj, _, err := strictCodecs.UniversalDeserializer().Decode(js, nil, nil)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	// Kubernetes' OpenAPI schema, as server-side apply checks it.
	if _, err := typeConverter.ObjectToTyped(u); err != nil {
		errs = append(errs, fmt.Errorf("%s: schema: %w", name, err))
	}
	if obj == nil {
		return nil, errs
	}
	for _, e := range checkObject(obj) {
		errs = append(errs, fmt.Errorf("%s: %w", name, e))
	}
	return obj, errs
}

// podTemplate returns the pod an object runs, if it runs one.
func podTemplate(obj runtime.Object) (*corev1.PodTemplateSpec, bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, true
	case *appsv1.StatefulSet:
		return &o.Spec.Template, true
	case *appsv1.DaemonSet:
		return &o.Spec.Template, true
	case *batchv1.Job:
		return &o.Spec.Template, true
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template, true
	case *corev1.Pod:
		return &corev1.PodTemplateSpec{ObjectMeta: o.ObjectMeta, Spec: o.Spec}, true
	}
	return nil, false
}

// checkObject applies the rules a schema cannot express: the restricted
// Pod Security level, and the API server validation rules a chart most
// easily breaks.
func checkObject(obj runtime.Object) []error {
	var errs []error
	if d, ok := obj.(*appsv1.Deployment); ok {
		if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 {
			errs = append(errs, errors.New("spec.selector.matchLabels is required"))
		} else if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			errs = append(errs, fmt.Errorf("spec.selector %v does not match the template's labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Labels))
		}
	}
	pt, ok := podTemplate(obj)
	if !ok {
		return errs
	}
	for _, r := range podSecurity.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}, &pt.ObjectMeta, &pt.Spec) {
		if !r.Allowed {
			errs = append(errs, fmt.Errorf("violates PodSecurity \"restricted:latest\": %s (%s)", r.ForbiddenReason, r.ForbiddenDetail))
		}
	}
	return append(errs, checkPodSpec(&pt.Spec)...)
}

func checkPodSpec(ps *corev1.PodSpec) []error {
	var errs []error
	volumes := map[string]bool{}
	for _, v := range ps.Volumes {
		if n := setFields(v.VolumeSource); n != 1 {
			errs = append(errs, fmt.Errorf("volume %q: %d volume types set, want exactly 1 (an empty emptyDir is written {})", v.Name, n))
		}
		if volumes[v.Name] {
			errs = append(errs, fmt.Errorf("volume %q: duplicate name", v.Name))
		}
		volumes[v.Name] = true
	}
	if len(ps.Containers) == 0 {
		errs = append(errs, errors.New("spec.containers is required"))
	}
	for _, c := range append(ps.InitContainers, ps.Containers...) {
		if c.Name == "" || c.Image == "" {
			errs = append(errs, fmt.Errorf("container %q: name and image are required (image %q)", c.Name, c.Image))
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				errs = append(errs, fmt.Errorf("container %q: volumeMount %q names no volume", c.Name, m.Name))
			}
		}
		for what, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
			if p != nil && p.HTTPGet != nil && p.HTTPGet.Port.StrVal != "" && !ports[p.HTTPGet.Port.StrVal] {
				errs = append(errs, fmt.Errorf("container %q: %s probe port %q is not a named container port", c.Name, what, p.HTTPGet.Port.StrVal))
			}
		}
	}
	return errs
}

// setFields counts the non-nil pointer fields of a struct such as
// corev1.VolumeSource, whose fields are alternatives.
func setFields(v any) int {
	rv := reflect.ValueOf(v)
	n := 0
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}
