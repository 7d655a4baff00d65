// The field managers the control plane's own writes carry. A real server names a managedFields
// entry after the writing binary (its User-Agent), not after the controller inside it: the PV
// binder, the Job and StatefulSet controllers, quota and the garbage collector all write as
// kube-controller-manager (checked on a 1.23 server).

/** Every controller of kube-controller-manager. */
export const CONTROLLER_MANAGER = 'kube-controller-manager';

/** The scheduler's own writes: a pod it cannot place, its Events. Bindings record no manager. */
export const SCHEDULER_MANAGER = 'kube-scheduler';

/** A node's agent: pod status, the Node and its Lease. */
export const KUBELET_MANAGER = 'kubelet';

/** The API server itself, e.g. a CRD's status. */
export const APISERVER_MANAGER = 'kube-apiserver';
