// The flat node arrays every tree of an ensemble lives in (one set per ensemble, trees one after another in
// preorder), and the builder trees are grown into. A node is a split when feature ≥ 0: rows with
// x[feature] ≤ threshold go to left, the others to right. A leaf (feature -1) holds leafWidth values at
// values[node × leafWidth]. Children always come after their parent, so walking a tree always ends.

export interface TreeNodes {
  readonly leafWidth: number;
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** nodes × leafWidth; zeros for splits. */
  readonly values: Float32Array;
}

export class NodeBuilder {
  private feature = new Int32Array(64);
  private threshold = new Float32Array(64);
  private left = new Int32Array(64);
  private right = new Int32Array(64);
  private values: Float32Array;
  length = 0;

  constructor(readonly leafWidth: number) {
    this.values = new Float32Array(64 * leafWidth);
  }

  /** A split whose children are set once grown; returns its index. */
  addSplit(feature: number, threshold: number): number {
    const i = this.next();
    this.feature[i] = feature;
    this.threshold[i] = threshold;
    return i;
  }

  setChildren(node: number, left: number, right: number): void {
    this.left[node] = left;
    this.right[node] = right;
  }

  /** A leaf with `values` (leafWidth of them); returns its index. */
  addLeaf(values: ArrayLike<number>): number {
    const i = this.next();
    this.feature[i] = -1;
    this.left[i] = -1;
    this.right[i] = -1;
    for (let k = 0; k < this.leafWidth; k++) this.values[i * this.leafWidth + k] = values[k] ?? 0;
    return i;
  }

  /** Drops every node from `length` on (the trees after early stopping's best round). */
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /** The nodes so far, without copying: valid until the next node is added. */
  view(): TreeNodes {
    return { leafWidth: this.leafWidth, feature: this.feature, threshold: this.threshold, left: this.left, right: this.right, values: this.values };
  }

  finish(): TreeNodes {
    const n = this.length;
    return {
      leafWidth: this.leafWidth,
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      values: this.values.slice(0, n * this.leafWidth),
    };
  }

  private next(): number {
    if (this.length === this.feature.length) {
      const size = this.feature.length * 2;
      this.feature = grown(this.feature, new Int32Array(size));
      this.threshold = grown(this.threshold, new Float32Array(size));
      this.left = grown(this.left, new Int32Array(size));
      this.right = grown(this.right, new Int32Array(size));
      this.values = grown(this.values, new Float32Array(size * this.leafWidth));
    }
    const i = this.length;
    this.length++;
    this.values.fill(0, i * this.leafWidth, (i + 1) * this.leafWidth);
    return i;
  }
}

function grown<T extends Int32Array | Float32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The leaf a row reaches in the tree rooted at `root`: the row is x[base .. base + width). */
export function leafAt(nodes: TreeNodes, root: number, x: Float32Array, base: number): number {
  const { feature, threshold, left, right } = nodes;
  let n = root;
  let f = feature[n] ?? -1;
  while (f >= 0) {
    n = (x[base + f] ?? 0) <= (threshold[n] ?? 0) ? left[n] ?? 0 : right[n] ?? 0;
    f = feature[n] ?? -1;
  }
  return n;
}
