/** Node flags of the image's ENTRYPOINT (Dockerfile), so that the bench runs the operator as the image does. */
export const imageNodeFlags = ['--max-semi-space-size=4', '--enable-source-maps'];
