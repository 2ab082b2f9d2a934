using DeployFunctions.Functions;
using DeployFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Host;

/// <summary>Program's service registration, as the host would build it at start-up.</summary>
public sealed class CompositionTests
{
    private const string Azurite = "UseDevelopmentStorage=true";

    [Fact]
    public void Every_function_class_resolves_from_the_real_composition()
    {
        using var services = TestHost.Services(Azurite);
        services.GetRequiredService<IStartupValidator>().Validate();

        var functionTypes = typeof(DeployFunctionsServices).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Length > 0))
            .ToList();

        Assert.Equal(3, functionTypes.Count);
        Assert.All(functionTypes, type => Assert.NotNull(services.GetRequiredService(type)));
        Assert.NotNull(services.GetRequiredService<WebhookIngressFunction>());
    }

    [Fact]
    public void Without_a_webhook_secret_start_up_fails_naming_the_setting()
    {
        using var services = TestHost.Services(Azurite, settings => settings.Remove("Webhook:Secrets:0"));

        var exception = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Webhook__Secrets__0", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blank_secret_counts_as_missing()
    {
        using var services = TestHost.Services(Azurite, settings => settings["Webhook:Secrets:0"] = "  ");

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Fact]
    public void Validation_messages_never_contain_the_secret()
    {
        using var services = TestHost.Services(Azurite, settings =>
        {
            settings["Webhook:Secrets:0"] = "super-secret-value";
            settings["Webhook:MaxBodyBytes"] = "-1";
        });

        var exception = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Webhook__MaxBodyBytes", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("super-secret-value", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PullRequestsQueue", "Pull_Requests")]
    [InlineData("DeploymentsQueue", "ab")]
    [InlineData("DeploymentStatusesQueue", "a-very-long-queue-name-that-leaves-no-room-for-the-poison-suffix")]
    public void Invalid_queue_names_fail_start_up_naming_the_setting(string setting, string value)
    {
        using var services = TestHost.Services(Azurite, settings => settings[setting] = value);

        var exception = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(setting, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_storage_fails_with_a_message_naming_AzureWebJobsStorage()
    {
        var exception = Assert.Throws<InvalidOperationException>(
            () => TestHost.Services(Azurite, settings => settings.Remove("AzureWebJobsStorage")));

        Assert.Contains("set AzureWebJobsStorage", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_based_storage_settings_are_accepted()
    {
        using var services = TestHost.Services(Azurite, settings =>
        {
            settings.Remove("AzureWebJobsStorage");
            settings["AzureWebJobsStorage:queueServiceUri"] = "https://example.queue.core.windows.net";
            settings["AzureWebJobsStorage:blobServiceUri"] = "https://example.blob.core.windows.net";
            settings["AzureWebJobsStorage:tableServiceUri"] = "https://example.table.core.windows.net";
            settings["AzureWebJobsStorage:credential"] = "managedidentity";
            settings["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001";
        });

        var queues = services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>();

        Assert.Equal("https://example.queue.core.windows.net/", queues.Uri.ToString());
    }
}
