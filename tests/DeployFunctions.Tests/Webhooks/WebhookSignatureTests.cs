using System.Text;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;

namespace DeployFunctions.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] DocsBody = "Hello, World!"u8.ToArray();
    private const string DocsSecret = "It's a Secret to Everybody";
    private const string DocsSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    [Fact]
    public void GitHub_docs_test_vector_is_valid()
    {
        var signature = new WebhookSignature(Deliveries.Options(DocsSecret));

        Assert.True(signature.IsValid(DocsSignature, DocsBody));
    }

    [Fact]
    public void Test_helper_signs_like_GitHub() =>
        Assert.Equal(DocsSignature, Deliveries.Sign(DocsBody, DocsSecret));

    [Theory]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18")] // last digit flipped
    [InlineData("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")] // no algorithm prefix
    [InlineData("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")] // other algorithm
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e")] // truncated
    [InlineData("sha256=")]
    [InlineData("")]
    [InlineData(null)]
    public void Wrong_or_missing_signature_is_invalid(string? header)
    {
        var signature = new WebhookSignature(Deliveries.Options(DocsSecret));

        Assert.False(signature.IsValid(header, DocsBody));
    }

    [Fact]
    public void Changed_body_is_invalid()
    {
        var signature = new WebhookSignature(Deliveries.Options(DocsSecret));

        Assert.False(signature.IsValid(DocsSignature, "Hello, World?"u8));
    }

    [Fact]
    public void During_rotation_old_and_new_secrets_are_accepted_and_others_rejected()
    {
        var signature = new WebhookSignature(Deliveries.Options("old-secret", "new-secret"));
        var body = Encoding.UTF8.GetBytes("{\"zen\":\"Keep it logically awesome.\"}");

        Assert.True(signature.IsValid(Deliveries.Sign(body, "old-secret"), body));
        Assert.True(signature.IsValid(Deliveries.Sign(body, "new-secret"), body));
        Assert.False(signature.IsValid(Deliveries.Sign(body, "another-secret"), body));
    }

    [Fact]
    public void Without_a_secret_nothing_is_valid_not_even_an_unsigned_body()
    {
        // Octokit.Webhooks' validator alone answers "Valid" for no secret and no signature; we must not.
        var signature = new WebhookSignature(Deliveries.Options(" "));

        Assert.False(signature.IsValid(null, DocsBody));
        Assert.False(signature.IsValid(Deliveries.Sign(DocsBody, ""), DocsBody));
    }
}
