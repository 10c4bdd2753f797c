//! Calico address autodetection: a model of calico-node's choice per method and version, and the
//! recommendation of the method that selects the node-network address on every node.
