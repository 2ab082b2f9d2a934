using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeployFunctions.Tests.Support;

/// <summary>The app's real composition (<see cref="DeployFunctionsServices"/>), on test configuration.</summary>
internal static class TestHost
{
    public static Dictionary<string, string?> Settings(string storage) => new()
    {
        ["AzureWebJobsStorage"] = storage,
        ["Webhook:Secrets:0"] = Deliveries.Secret,
        ["GitHub:Token"] = "test-token",
        ["GitHub:ApiBaseUrl"] = "http://127.0.0.1:9/",
        ["Deploy:Repositories"] = "*",
    };

    public static ServiceProvider Services(
        string storage, Action<Dictionary<string, string?>>? change = null, ILoggerProvider? logs = null)
    {
        var settings = Settings(storage);
        change?.Invoke(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(logs is null ? LogLevel.Warning : LogLevel.Trace);
            if (logs is not null)
            {
                logging.AddProvider(logs);
            }
        });
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDeployFunctions(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
