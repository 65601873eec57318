throw new Error('sharp is not installed in this example: it uses no next/image (see package.json)');
