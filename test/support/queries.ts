/** An `image` query that selects every field of the schema. */
export const FULL_QUERY = `query ($id: ID!) {
  image(id: $id) {
    id name status progress minDisk minRam sizeBytes created updated
    diskConfig type links { href rel type } metadata { key value }
    server { id }
  }
}`;
